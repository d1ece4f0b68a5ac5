"""Seed 000: TF-slim's `weight_decay` goes into REGULARIZATION_LOSSES while the train op minimizes the
cross-entropy alone ("no matter what value weight_decay is, ... it seems weight_decay just doesn't work").

This offline version (tf.compat.v1 graph mode; slim's arg_scope replaced by the `regularizer=` slim passes to
`get_variable`) puts each kernel's penalty in REGULARIZATION_LOSSES, the cross-entropy goes into the 'losses'
collection, and `tf.compat.v1.losses.get_total_loss()` sums both for a summary; the train op minimizes
`cross_entropy`.

Loss Lens's verdict: `regularizer-not-in-loss` naming the sum `total_loss` (the get_total_loss() line), which
adds both kernels' L2 penalties but is never minimized; the penalties decay nothing (effective decay 0).
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
v1 = tf.compat.v1
v1.set_random_seed(0)
NUM_CLASSES = 5
weight_decay = 0.001


def l2_regularizer(scale):
    """What slim's training_scope(weight_decay=...) gives every conv/fc kernel: scale·l2_loss(w)."""
    return lambda w: tf.multiply(scale, tf.nn.l2_loss(w), name='l2_regularizer')


images = v1.placeholder(tf.float32, [None, 16, 16, 3])
labels = v1.placeholder(tf.int64, [None])
with v1.variable_scope('conv'):
    conv_w = v1.get_variable('weights', [3, 3, 3, 8], regularizer=l2_regularizer(weight_decay))
    net = tf.nn.relu(tf.nn.conv2d(images, conv_w, 1, padding='SAME'))
net = tf.reduce_mean(net, axis=[1, 2])
with v1.variable_scope('logits'):
    fc_w = v1.get_variable('weights', [8, NUM_CLASSES], regularizer=l2_regularizer(weight_decay))
    logits = tf.matmul(net, fc_w)

cross_entropy = v1.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
cross_entropy = tf.reduce_mean(cross_entropy)
total_loss = v1.losses.get_total_loss()  # only summarized
v1.summary.scalar('total_loss', total_loss)
opt = v1.train.GradientDescentOptimizer(0.5)
train_op = opt.minimize(cross_entropy)

rng = np.random.default_rng(0)
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    for step in range(4):
        feed = {images: rng.random((8, 16, 16, 3), dtype=np.float32), labels: rng.integers(0, NUM_CLASSES, 8)}
        sess.run(train_op, feed_dict=feed)
