"""Arguments spelled the way other libraries spell them (scikit-learn,
Keras, PyTorch, Nielsen's network2) get a TypeError that names creg's
argument, and points to creg.convert_penalty where the meaning differs
(issue 17).  Estimator errors name the public class."""
import inspect

import numpy as np
import pytest

import creg
from conftest import repeated_phrases

sklearn = pytest.importorskip("sklearn")
from creg.sklearn import CregClassifier, CregRegressor  # noqa: E402

CONVERT = "creg.convert_penalty("

# (call, foreign name, fragments the message must hold)
TABLE = [
    ("fit", "weight_decay", ("creg calls the L2 penalty 'l2'", CONVERT +
                             "weight_decay, 'pytorch', 'creg_n', n=len(X))")),
    ("fit", "alpha", ("creg calls the L2 penalty 'l2'",
                      CONVERT + "alpha, 'sklearn', 'creg_n', n=len(X), "
                                "batch_size=200)")),
    ("fit", "learning_rate", ("creg calls the learning rate 'lr'",)),
    ("fit", "learning_rate_init", ("creg calls the learning rate 'lr'",)),
    ("fit", "eta", ("creg calls the learning rate 'lr'",)),
    ("fit", "epoch", ("creg calls the number of epochs 'epochs'",)),
    ("fit", "n_epochs", ("creg calls the number of epochs 'epochs'",)),
    ("fit", "max_iter", ("creg calls the number of epochs 'epochs'",)),
    ("fit", "nb_epoch", ("creg calls the number of epochs 'epochs'",)),
    ("fit", "batch", ("creg calls the mini-batch size 'batch_size'",)),
    ("fit", "mini_batch_size", ("creg calls the mini-batch size "
                                "'batch_size'",)),
    ("fit", "lmbda", ("'l2'", "network2's lmbda is creg's l2 as is")),
    ("fit", "l2_lambda", ("creg calls the L2 penalty 'l2'",)),
    ("fit", "reg", ("'l2'", "penalty_scale='none'")),
    ("fit", "l1_ratio", ("'l1'", "not a ratio")),
    ("fit", "lr_decay", ("'lr_schedule'", "callable lr_schedule(epoch, "
                                          "history)")),
    ("fit", "decay", ("'lr_schedule'",)),
    ("fit", "callbacks", ("'lr_schedule'",)),
    ("fit", "optimizer", ("mini-batch SGD", "momentum=")),
    ("fit", "solver", ("mini-batch SGD",)),
    ("fit", "nesterov", ("'momentum'", "no Nesterov variant")),
    ("fit", "keep_prob", ("'dropout'", "dropout = 1 - keep_prob")),
    ("fit", "dropout_rate", ("creg calls dropout 'dropout'",)),
    ("fit", "noise_std", ("'input_noise'",)),
    ("fit", "kernel_constraint", ("'max_norm'",)),
    ("fit", "verbosity", ("creg calls printing progress 'verbose'",)),
    ("fit", "validation_split", ("'validation_data' (a pair (X_val, "
                                 "y_val))",)),
    ("fit", "n_iter_no_change", ("'patience'",)),
    ("fit", "n_jobs", ("creg calls the number of threads 'n_threads'",)),
    ("fit", "num_threads", ("'n_threads'",)),
    ("fit", "tol", ("runs the given epochs", "early_stopping=True")),
    ("fit", "sample_weight", ("does not weight samples",)),
    ("fit", "loss", ("the cost is set in creg.Network(sizes, cost=...)",)),
    ("fit", "activation", ("set in creg.Network(sizes, hidden=...)",)),
    ("fit", "random_state", ("the seed is set in creg.Network(sizes, "
                             "seed=...)",)),
    ("fit", "seed", ("the seed is set in creg.Network(sizes, seed=...)",)),
    ("fit", "hidden", ("set in creg.Network(sizes, hidden=...)",)),
    ("fit", "lrr", ("did you mean 'lr'?",)),
    # only names the call takes are suggested: validation_fraction is the
    # estimators', which fit refuses
    ("fit", "validation_freq", ("did you mean 'validation_data'?",)),
    ("Network", "layer_sizes", ("did you mean 'sizes'?",)),
    ("fit", "layers", ("the layer sizes are set in creg.Network(sizes, "
                       "...)",)),
    ("Network", "activation", ("creg calls the hidden layers' activation "
                               "'hidden'",)),
    ("Network", "output_activation", ("'output'",)),
    ("Network", "loss", ("creg calls the cost 'cost'",)),
    ("Network", "kernel_initializer", ("'init'",)),
    ("Network", "random_state", ("creg calls the seed 'seed'",)),
    ("Network", "hidden_layer_sizes", ("'sizes'",)),
    ("Network", "lr", ("the learning rate is set in net.fit(X, y, lr=...)",)),
    ("Network", "epochs", ("set in net.fit(X, y, epochs=...)",)),
    ("Network", "weight_decay", ("set in net.fit(X, y, l2=...) or "
                                 "net.cost(X, y, l2=...)", CONVERT)),
    ("cost", "lmbda", ("'l2'",)),
    ("cost", "weight_decay", ("'l2'", CONVERT)),
    ("estimator", "alpha", ("creg calls the L2 penalty 'l2'",
                            CONVERT + "alpha, 'sklearn'")),
    ("estimator", "weight_decay", ("'l2'", CONVERT + "weight_decay, "
                                               "'pytorch'")),
    ("estimator", "learning_rate_init", ("creg calls the learning rate "
                                         "'lr'",)),
    ("estimator", "learning_rate", ("'lr'",)),
    ("estimator", "max_iter", ("creg calls the number of epochs 'epochs'",)),
    ("estimator", "activation", ("'hidden'",)),
    ("estimator", "seed", ("creg calls the seed 'random_state'",)),
    ("estimator", "patience", ("'n_iter_no_change'",)),
    ("estimator", "validation_split", ("'validation_fraction'",)),
    ("estimator", "validation_data", ("'validation_fraction' (the fraction "
                                      "of the training rows held out",)),
    ("estimator", "n_jobs", ("'n_threads'",)),
    ("estimator", "solver", ("mini-batch SGD",)),
    ("estimator", "loss", ("CregClassifier has a softmax output",
                           "creg.Network takes others")),
    ("estimator", "output", ("CregRegressor a linear one",)),
    ("estimator", "warm_start", ("partial_fit trains on from its weights",
                                 "fit starts over")),
    ("fit", "classes", ("for an estimator's first partial_fit",
                        "labels 0 .. sizes[-1]-1")),
    ("estimator", "lr_schedule", ("the estimators have no learning-rate "
                                  "schedule; creg.Network's fit takes "
                                  "lr_schedule=",)),
    # the sweep's fixed settings and grid keys, as fit's
    ("sweep", "weight_decay", ("creg calls the L2 penalty 'l2'", CONVERT +
                               "weight_decay, 'pytorch', 'creg_n', "
                               "n=len(X))")),
    ("sweep", "alpha", ("'l2', a setting of the sweep or of its grid",
                        CONVERT + "alpha, 'sklearn', 'creg_n'")),
    ("sweep grid", "alpha", (CONVERT + "alpha, 'sklearn', 'creg_n'",)),
    ("sweep", "lmbda", ("network2's lmbda is creg's l2 as is",)),
]


def test_the_table_covers_at_least_fifteen_names_in_each_kind_of_call():
    for call in ("fit", "Network", "estimator"):
        assert len({name for c, name, _ in TABLE if c == call}) >= 8, call
    assert len({name for _, name, _ in TABLE}) >= 15


def test_too_many_positional_arguments_say_which_are_keywords():
    # Keras's fit(x, y, batch_size, epochs)
    X, y = np.zeros((8, 4)), np.arange(8) % 2
    with pytest.raises(TypeError, match=r"Network.fit\(\): too many "
                       "positional arguments; it takes X, y by position and "
                       r"the others by keyword, as in epochs=\.\.\."):
        creg.Network([4, 3, 2]).fit(X, y, 30)


def test_setting_net_cost_names_cost_name():
    # the constructor's cost= is net.cost_name; net.cost is the method
    net = creg.Network([4, 3, 2])
    with pytest.raises(AttributeError, match="net.cost_name = "
                       "'cross_entropy'"):
        net.cost = "cross_entropy"
    assert callable(net.cost)
    net.output = "sigmoid"
    with pytest.raises(ValueError, match="net.cost_name='log_likelihood' "
                       "needs net.output='softmax'; got net.output="
                       "'sigmoid'"):
        net.fit(np.zeros((8, 4)), np.arange(8) % 2, epochs=1)


def _call(call, name):
    X = np.random.default_rng(0).random((8, 4))
    y = np.arange(8) % 2
    net = creg.Network([4, 3, 2])
    if call == "fit":
        return "Network.fit", lambda: net.fit(X, y, **{name: 1})
    if call == "cost":
        return "Network.cost", lambda: net.cost(X, y, **{name: 1})
    if call == "Network":
        return "Network", lambda: creg.Network([4, 3, 2], **{name: 1})
    if call == "sweep":
        return "creg.sweep", lambda: creg.sweep(X, y, [4, 3, 2], {},
                                                **{name: 1})
    if call == "sweep grid":
        return "creg.sweep", lambda: creg.sweep(X, y, [4, 3, 2],
                                                {name: [1]})
    return "CregClassifier", lambda: CregClassifier(**{name: 1})


@pytest.mark.parametrize("call, name, fragments", TABLE,
                         ids=[f"{c}-{n}" for c, n, _ in TABLE])
def test_foreign_name_gets_creg_s_name(call, name, fragments):
    owner, attempt = _call(call, name)
    with pytest.raises(TypeError) as info:
        attempt()
    message = str(info.value)
    assert message.startswith(
        f"{owner}() got an unexpected keyword argument {name!r}"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert not repeated_phrases(message), message


@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_estimator_errors_name_the_public_class(Estimator):
    public = Estimator.__name__
    X, y = np.random.default_rng(0).random((8, 4)), np.arange(8) % 2
    attempts = [lambda: Estimator(alpha=1e-4),
                lambda: Estimator((10,), "relu"),
                lambda: Estimator().fit(X),
                lambda: Estimator().fit(X, y, epochs=5),
                lambda: Estimator().fit(X, y, sample_weight=np.ones(8)),
                lambda: Estimator().partial_fit(X, y, learning_rate=0.1)]
    for attempt in attempts:
        with pytest.raises(TypeError) as info:
            attempt()
        message = str(info.value)
        assert message.startswith(public), message
        assert "_CregEstimator" not in message
    with pytest.raises(TypeError, match=rf"{public}.fit\(\) got an unexpected "
                       r"keyword argument 'epochs': creg calls the number "
                       r"of epochs 'epochs', a parameter of the estimator: "
                       rf"{public}\(epochs=...\) or set_params"):
        Estimator().fit(X, y, epochs=5)


def test_set_params_with_a_foreign_name_is_sklearn_s_value_error():
    with pytest.raises(ValueError, match=r"Invalid parameter 'alpha' for "
                       r"estimator CregClassifier\(\): creg calls the L2 "
                       r"penalty 'l2'.*convert_penalty"):
        CregClassifier().set_params(alpha=1e-4)
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        CregClassifier().set_params(bogus=1)
    with pytest.raises(ValueError, match="did you mean 'l1_method'"):
        CregClassifier().set_params(l1_methd="prox")
    assert CregClassifier().set_params(lr=0.05).lr == 0.05


def test_checked_calls_keep_their_signatures():
    # scikit-learn reads the estimators' parameters from __init__'s
    # signature; Sphinx and help() read the others'
    assert "lr" in inspect.signature(creg.Network.fit).parameters
    assert "hidden" in inspect.signature(creg.Network).parameters
    assert "l2" in CregClassifier().get_params()
    assert "scale_y" in CregRegressor().get_params()
