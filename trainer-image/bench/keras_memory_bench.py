"""The 64-64-1 net in Keras on TensorFlow CPU over in-memory numpy arrays of the same CSV shards the Kiln
trainer streams: the fastest Keras can go on this machine (no input pipeline in the way).

Usage: KERAS_EPOCHS=2 python keras_memory_bench.py <dir with *.csv> <batch> [<batch> ...]
Like keras_csv_bench.py: standardised inputs (a Normalization layer adapted on the training rows), every
10th row held out for the test MAE, adam 0.001, mse, KERAS_EPOCHS epochs (default 1), shuffled each epoch. Prints one JSON object per batch
size on stdout: the load (pandas.read_csv) seconds, ms per step of each epoch, samples/s, wall seconds
(load included), test MAE and the process's peak RSS.
"""
import glob
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402


class EpochTimer(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.time() - self.start)


def main():
    d, batches = sys.argv[1], [int(b) for b in sys.argv[2:]]
    epochs = int(os.environ.get("KERAS_EPOCHS", "1"))
    files = sorted(glob.glob(os.path.join(d, "*.csv")))
    for batch in batches:
        tf.keras.utils.set_random_seed(42)
        start = time.time()
        frame = pd.concat([pd.read_csv(f, dtype=np.float32) for f in files], ignore_index=True)
        load_seconds = time.time() - start
        x = frame[[c for c in frame.columns if c.startswith("x")]].to_numpy()
        y = frame[["y"]].to_numpy()
        held_out = np.arange(len(frame)) % 10 == 0
        x_train, y_train, x_test, y_test = x[~held_out], y[~held_out], x[held_out], y[held_out]
        norm = tf.keras.layers.Normalization()
        norm.adapt(x_train)
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(x.shape[1],)),
            norm,
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(1),
        ])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.001), loss="mse")
        timer = EpochTimer()
        fit_start = time.time()
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch, shuffle=True, verbose=0, callbacks=[timer])
        fit_seconds = time.time() - fit_start
        steps = -(-len(x_train) // batch)
        mae = float(np.mean(np.abs(model.predict(x_test, batch_size=4096, verbose=0) - y_test)))
        print(json.dumps({"batchSize": batch, "loadSeconds": load_seconds,
                          "msPerStep": [s * 1000 / steps for s in timer.seconds],
                          "samplesPerSecond": len(x_train) * epochs / fit_seconds, "mae": mae,
                          "wallSeconds": time.time() - start,
                          "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "tensorflow": tf.__version__}), flush=True)


if __name__ == "__main__":
    main()
