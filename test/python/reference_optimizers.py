"""The tests' own float64 re-implementation of Keras 3.12's update rules, one closure per element with its state in
plain lists, written apart from the probes' vectorized shadows so their measured decay can be checked against it.
`step(key, i, g, t)` returns element i's Δ; t is the optimizer's iteration count before the step."""
import math


def reference(name, cfg):
    state = {}

    def slot(key, i, n, init=0.0):
        return state.setdefault((key, i), [init] * n)

    lr = cfg['learning_rate']
    if name == 'SGD':
        mom, nesterov = cfg.get('momentum', 0.0), cfg.get('nesterov', False)

        def step(key, i, g, t):
            if not mom:
                return -lr * g
            s = slot(key, i, 1)
            s[0] = mom * s[0] - lr * g
            return mom * s[0] - lr * g if nesterov else s[0]
        return step
    if name in ('Adam', 'AdamW'):
        b1, b2, eps = cfg.get('beta_1', 0.9), cfg.get('beta_2', 0.999), cfg.get('epsilon', 1e-7)

        def step(key, i, g, t):
            s = slot(key, i, 2)
            s[0] = s[0] + (g - s[0]) * (1 - b1)
            s[1] = s[1] + (g * g - s[1]) * (1 - b2)
            a = lr * math.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
            return -s[0] * a / (math.sqrt(s[1]) + eps)
        return step
    if name == 'RMSprop':
        rho, mom, eps, centered = cfg.get('rho', 0.9), cfg.get('momentum', 0.0), cfg.get('epsilon', 1e-7), cfg.get('centered', False)

        def step(key, i, g, t):
            s = slot(key, i, 3)
            s[0] = rho * s[0] + (1 - rho) * g * g
            denominator = s[0] + eps
            if centered:
                s[1] = rho * s[1] + (1 - rho) * g
                denominator = s[0] - s[1] * s[1] + eps
            increment = lr * g / math.sqrt(denominator)
            if mom > 0:
                s[2] = mom * s[2] + increment
                return -s[2]
            return -increment
        return step
    if name == 'Adagrad':
        init, eps = cfg.get('initial_accumulator_value', 0.1), cfg.get('epsilon', 1e-7)

        def step(key, i, g, t):
            s = slot(key, i, 1, init)
            s[0] += g * g
            return -lr * g / math.sqrt(s[0] + eps)
        return step
    raise KeyError(name)
