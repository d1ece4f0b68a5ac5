"""Seed 002: the TensorFlow CIFAR-10 example's `_variable_with_weight_decay` and its 'losses' collection.

`_variable_with_weight_decay` puts wd·l2_loss(var) in the 'losses' collection; the example's `loss()` sums that
collection with the cross-entropy (`tf.add_n(tf.get_collection('losses'), name='total_loss')`). This offline
version (tf.compat.v1 graph mode, random 24×24 "images") builds that sum, but its train op minimizes the
cross-entropy alone: the collection is summed and never minimized.

Loss Lens's verdict: `regularizer-not-in-loss`, naming the sum `total_loss` (the add_n line) that adds the
penalties on local3/weights and local4/weights but is never minimized ("Return `total_loss` instead"); their
effective decay is 0.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
v1 = tf.compat.v1
v1.set_random_seed(2)
BATCH = 16


def _variable_with_weight_decay(name, shape, stddev, wd):
    var = v1.get_variable(name, shape, initializer=v1.truncated_normal_initializer(stddev=stddev))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        v1.add_to_collection('losses', weight_decay)
    return var


images = v1.placeholder(tf.float32, [BATCH, 24, 24, 3])
labels = v1.placeholder(tf.int64, [BATCH])
with v1.variable_scope('conv1'):
    kernel = _variable_with_weight_decay('weights', [5, 5, 3, 16], stddev=5e-2, wd=None)
    conv1 = tf.nn.relu(tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME'))
pool1 = tf.nn.max_pool2d(conv1, 3, 2, padding='SAME')
reshape = tf.reshape(pool1, [BATCH, -1])
with v1.variable_scope('local3'):
    weights = _variable_with_weight_decay('weights', [12 * 12 * 16, 64], stddev=0.04, wd=0.004)
    local3 = tf.nn.relu(tf.matmul(reshape, weights))
with v1.variable_scope('local4'):
    weights4 = _variable_with_weight_decay('weights', [64, 10], stddev=1 / 64.0, wd=0.004)
    logits = tf.matmul(local3, weights4)

cross_entropy_mean = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
v1.add_to_collection('losses', cross_entropy_mean)
total_loss = tf.add_n(v1.get_collection('losses'), name='total_loss')
train_op = v1.train.GradientDescentOptimizer(0.1).minimize(cross_entropy_mean)  # should minimize total_loss

rng = np.random.default_rng(2)
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    for step in range(4):
        feed = {images: rng.random((BATCH, 24, 24, 3), dtype=np.float32), labels: rng.integers(0, 10, BATCH)}
        _, value = sess.run([train_op, total_loss], feed_dict=feed)
        print(step, value)
