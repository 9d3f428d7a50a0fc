"""The same 64-64-1 net in Keras on TensorFlow CPU, on the exact arrays the tfjs rows used.

Usage: python keras_bench.py <dir>  (dir holds <name>.{x_train,y_train,x_test,y_test}.f32 + meta.json)
Prints one JSON object per dataset on stdout.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def load(d, name, part, cols):
    return np.fromfile(os.path.join(d, f"{name}.{part}.f32"), dtype=np.float32).reshape(-1, cols)


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    tf.keras.utils.set_random_seed(42)
    for ds in meta["datasets"]:
        name, cols = ds["name"], ds["inputs"]
        x, y = load(d, name, "x_train", cols), load(d, name, "y_train", 1)
        xt, yt = load(d, name, "x_test", cols), load(d, name, "y_test", 1)
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(cols,)),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(1),
        ])
        model.compile(optimizer=tf.keras.optimizers.Adam(ds["learningRate"]), loss="mse")
        start = time.time()
        model.fit(x, y, epochs=ds["epochs"], batch_size=ds["batchSize"], shuffle=True, verbose=0)
        seconds = time.time() - start
        pred = model.predict(xt, batch_size=4096, verbose=0)
        mae = float(np.mean(np.abs(pred - yt)))
        print(json.dumps({"name": name, "samplesPerSecond": len(x) * ds["epochs"] / seconds, "mae": mae,
                          "seconds": seconds, "tensorflow": tf.__version__}), flush=True)


if __name__ == "__main__":
    main()
