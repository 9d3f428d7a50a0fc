"""The 64-64-1 net in Keras on TensorFlow CPU over a tf.data pipeline that reads the same CSV shards the
Kiln trainer streams (downloaded to local disk: TensorFlow reads s3:// only with tensorflow-io).

Usage: KERAS_EPOCHS=2 python keras_csv_bench.py <dir with *.csv> <batch> [<batch> ...]
Like the trainer: standardised inputs (a Normalization layer adapted on the training rows: a first pass),
a 10 % test split by record (every 10th here), a shuffle buffer of 10,000 rows, KERAS_EPOCHS epochs
(default 1), adam 0.001. Prints one JSON object per batch size on stdout (ms per step of each epoch too).
"""
import glob
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

COLUMNS = 10  # id, x0..x7, y
EPOCHS = int(os.environ.get("KERAS_EPOCHS", "1"))


class EpochTimer(tf.keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds, self.steps = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.first = time.time(), int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.time() - self.start)
        self.steps.append(int(self.model.optimizer.iterations.numpy()) - self.first)


def records(files):
    ds = tf.data.experimental.CsvDataset(files, record_defaults=[tf.float32] * COLUMNS, header=True)
    return ds.map(lambda *row: (tf.stack(row[1:9]), tf.expand_dims(row[9], -1)), num_parallel_calls=tf.data.AUTOTUNE)


def main():
    d, batches = sys.argv[1], [int(b) for b in sys.argv[2:]]
    files = sorted(glob.glob(os.path.join(d, "*.csv")))
    tf.keras.utils.set_random_seed(42)
    indexed = records(files).enumerate()
    train = indexed.filter(lambda i, r: i % 10 != 0).map(lambda i, r: r)
    test = indexed.filter(lambda i, r: i % 10 == 0).map(lambda i, r: r)
    for batch in batches:
        start = time.time()
        norm = tf.keras.layers.Normalization()
        norm.adapt(train.map(lambda x, y: x).batch(4096))
        stats_seconds = time.time() - start
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(8,)),
            norm,
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(1),
        ])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.001), loss="mse")
        pipeline = train.shuffle(10_000, seed=42).batch(batch).prefetch(tf.data.AUTOTUNE)
        timer = EpochTimer()
        fit_start = time.time()
        model.fit(pipeline, epochs=EPOCHS, verbose=0, callbacks=[timer])
        fit_seconds = time.time() - fit_start
        errors = [np.abs(model.predict_on_batch(x) - y.numpy()) for x, y in test.batch(4096)]
        mae = float(np.mean(np.concatenate(errors)))
        samples = int(model.optimizer.iterations.numpy()) * batch  # the last batch may be short: within one batch
        print(json.dumps({"batchSize": batch, "samplesPerSecond": samples / fit_seconds, "mae": mae, "statsSeconds": stats_seconds,
                          "msPerStep": [s * 1000 / max(1, n) for s, n in zip(timer.seconds, timer.steps)],
                          "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "wallSeconds": time.time() - start, "tensorflow": tf.__version__}), flush=True)


if __name__ == "__main__":
    main()
