"""Everything the launcher hands Ray crosses a process boundary by pickling. A live object there
(a store's connection, a key box) breaks `ludex serve` the day a library stops pickling it, as
cryptography 51's Rust Fernet did: these tests build each Ray actor and the Serve deployment
from exactly the arguments the launcher passes, and pickle them the way Ray does."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray import cloudpickle

from actors.cluster import ActorSpec, coordinator_spec, host_spec, webhook_worker_spec
from actors.secret_box import SecretBox
from actors.sharding import shard_name
from config.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Building an actor configures its process's JSON logging, as Ray's worker would: put the
    `ludex` logger back afterwards so later tests' log capture still sees it."""
    logger = logging.getLogger("ludex")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield Settings(data_dir=tmp_path, shards=2, redis_url="redis://127.0.0.1:1/0")
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


def launcher_specs(settings: Settings) -> list[ActorSpec]:
    """The actors `ludex serve` starts: the coordinator, each shard host, the webhook worker."""
    hosts = [host_spec(settings, shard_name(settings.deployment, i), settings.slots) for i in range(settings.shards)]
    return [coordinator_spec(settings), *hosts, webhook_worker_spec(settings)]


def test_every_actor_argument_pickles_and_builds_the_actor_on_the_other_side(settings: Settings) -> None:
    specs = launcher_specs(settings)
    assert [spec.cls.__name__ for spec in specs] == [
        "RayCoordinator",
        "RayShardHost",
        "RayShardHost",
        "RayWebhookWorker",
    ]
    for spec in specs:
        args, kwargs = pickle.loads(cloudpickle.dumps((spec.args, spec.kwargs)))
        actor: Any = spec.cls(*args, **kwargs)  # what Ray does in the actor's process
        assert actor is not None
        assert pickle.loads(cloudpickle.dumps(spec.options)) == spec.options


def test_no_actor_argument_holds_key_material_as_a_live_object(settings: Settings) -> None:
    for spec in launcher_specs(settings):
        for value in [*spec.args, *spec.kwargs.values()]:
            assert not isinstance(value, SecretBox), spec.cls.__name__


def test_the_webhook_worker_builds_its_key_box_in_its_own_process(settings: Settings) -> None:
    spec = webhook_worker_spec(settings)
    args, kwargs = pickle.loads(cloudpickle.dumps((spec.args, spec.kwargs)))
    worker: Any = spec.cls(*args, **kwargs)
    assert isinstance(worker.box, SecretBox)
    assert worker.box.open(SecretBox.from_settings(settings).seal("whsec_x")) == "whsec_x"


def test_a_key_box_refuses_to_be_pickled_and_says_what_to_do_instead(settings: Settings) -> None:
    with pytest.raises(TypeError, match="build it from Settings"):
        cloudpickle.dumps(SecretBox.from_settings(settings))


def test_the_serve_deployment_pickles_as_serve_ships_it(settings: Settings) -> None:
    from serve.deployment import build_application

    application: Any = build_application(settings)
    deployment = application._bound_deployment  # what `serve.run` ships to the controller
    shipped = pickle.loads(cloudpickle.dumps(deployment.func_or_class))
    assert shipped.__name__ == "LudexIngress"
