"""Seed 003: a multi-scale variant of the CIFAR-10 network — "the loss is now 17 when in the single scale case I
had the initial loss around 3".

The first conv layer's pooled output is concatenated with the second's to feed local3, so local3's weight matrix
grows ~5× (here 28×28 crops: 15680×384); with the example's `_variable_with_weight_decay(..., stddev=0.04,
wd=0.004)` its L2 penalty alone is ~15 at initialization, while the cross-entropy is ~2.3. The train op minimizes
the example's `total_loss` (the 'losses' collection summed), so the penalty does reach the loss.

Loss Lens's verdict: `regularization-dominates-loss` (the regularization loss exceeds the data loss at the first
step; the largest penalty is the hand-written L2 on local3/weights); the penalties reach the minimized loss.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
v1 = tf.compat.v1
v1.set_random_seed(3)
BATCH = 8


def _variable_with_weight_decay(name, shape, stddev, wd):
    var = v1.get_variable(name, shape, initializer=v1.truncated_normal_initializer(stddev=stddev))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        v1.add_to_collection('losses', weight_decay)
    return var


images = v1.placeholder(tf.float32, [BATCH, 28, 28, 3])
labels = v1.placeholder(tf.int64, [BATCH])
with v1.variable_scope('conv1'):
    kernel = _variable_with_weight_decay('weights', [5, 5, 3, 64], stddev=1e-4, wd=0.0)
    conv1 = tf.nn.relu(tf.nn.conv2d(images, kernel, 1, padding='SAME'))
pool1 = tf.nn.max_pool2d(conv1, 3, 2, padding='SAME')
with v1.variable_scope('conv2'):
    kernel2 = _variable_with_weight_decay('weights', [5, 5, 64, 64], stddev=1e-4, wd=0.0)
    conv2 = tf.nn.relu(tf.nn.conv2d(pool1, kernel2, 1, padding='SAME'))
pool2 = tf.nn.max_pool2d(conv2, 3, 2, padding='SAME')
# Multi-scale: pool1 (14×14×64) beside pool2 (7×7×64), flattened into local3.
concat = tf.concat([tf.reshape(pool1, [BATCH, -1]), tf.reshape(pool2, [BATCH, -1])], axis=1)
with v1.variable_scope('local3'):
    weights = _variable_with_weight_decay('weights', [15680, 384], stddev=0.04, wd=0.004)
    local3 = tf.nn.relu(tf.matmul(concat, weights))
with v1.variable_scope('softmax_linear'):
    weights2 = _variable_with_weight_decay('weights', [384, 10], stddev=1 / 384.0, wd=0.0)
    logits = tf.matmul(local3, weights2)

cross_entropy_mean = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
v1.add_to_collection('losses', cross_entropy_mean)
total_loss = tf.add_n(v1.get_collection('losses'), name='total_loss')
train_op = v1.train.GradientDescentOptimizer(0.1).minimize(total_loss)

rng = np.random.default_rng(3)
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    for step in range(3):
        feed = {images: rng.random((BATCH, 28, 28, 3), dtype=np.float32), labels: rng.integers(0, 10, BATCH)}
        _, value = sess.run([train_op, total_loss], feed_dict=feed)
        print(step, value)
