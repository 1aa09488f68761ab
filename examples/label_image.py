#!/usr/bin/env python3
"""TensorFlow's label_image.py on frost: the same flags, any number of images,
the graph loaded and compiled once.

  python3 examples/label_image.py --graph=mobilenet_v2.pb --labels=labels.txt \\
      --input_mean=128 --input_std=128 --image=grace_hopper.jpg [--image=...] [IMAGE...]

Prints, as label_image.py does, the top classes of each image, "label score"
a line (with several images, "PATH:" before each image's lines).  Unlike
label_image.py, --input_layer, --output_layer, --input_height and
--input_width default to what the graph says (its only Placeholder and sink,
the Placeholder's size; 299 when the graph gives no size).
"""
import argparse
import os
import sys

try:
    import frost
except ImportError:  # run from a source tree: the package next to this file
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import frost

DATA = "tensorflow/examples/label_image/data/"


def main(argv=None):
    p = argparse.ArgumentParser(description="Classify images with a frozen TensorFlow graph (frost).")
    p.add_argument("--image", action="append", default=[], help="image to be processed (repeatable)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="more images")
    p.add_argument("--graph", default=DATA + "inception_v3_2016_08_28_frozen.pb", help="graph/model to be executed")
    p.add_argument("--labels", default=DATA + "imagenet_slim_labels.txt", help="name of file containing labels")
    p.add_argument("--input_height", type=int, help="input height (default: the graph's, else 299)")
    p.add_argument("--input_width", type=int, help="input width (default: the graph's, else 299)")
    p.add_argument("--input_mean", type=float, default=0, help="input mean")
    p.add_argument("--input_std", type=float, default=255, help="input std")
    p.add_argument("--input_layer", help="name of input layer (default: the graph's only Placeholder)")
    p.add_argument("--output_layer", help="name of output layer (default: the graph's only sink)")
    p.add_argument("--top_k", type=int, default=5, help="classes per image (default 5)")
    p.add_argument("--batch", type=int, default=16, help="images per inference call (default 16)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (default: all cores)")
    a = p.parse_args(argv)
    images = a.image + a.images or [DATA + "grace_hopper.jpg"]
    labels = a.labels if os.path.exists(a.labels) or a.labels != p.get_default("labels") else None
    try:
        with frost.Model(a.graph, labels=labels, input_layer=a.input_layer, output_layer=a.output_layer,
                         input_width=a.input_width, input_height=a.input_height, input_mean=a.input_mean,
                         input_std=a.input_std, threads=a.threads) as model:
            # Results come out batch by batch, in input order.
            for path, top in zip(images, model.iclassify(images, top_k=a.top_k, batch=a.batch)):
                if len(images) > 1:
                    print(path + ":")
                for label, index, score in top:
                    print(label if label is not None else index, "%g" % score)
    except frost.Error as e:
        print("label_image.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
