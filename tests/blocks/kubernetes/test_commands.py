"""Commands queue in a ConfigMap: in order, each taken exactly once."""

from __future__ import annotations

import threading

import pytest

from blocks.errors import TargetError, UnknownApp
from tests.support.k8s_target import TargetFactory, shop_app

pytestmark = pytest.mark.k8s


def test_commands_come_back_in_order_and_once(make_target: TargetFactory) -> None:
    target = make_target()
    target.register_app(shop_app())
    assert target.take_commands("shop") == []
    target.post_command("shop", "promote")
    make_target().post_command("shop", "abort")
    assert target.take_commands("shop") == ["promote", "abort"]
    assert target.take_commands("shop") == []


def test_concurrent_takers_never_share_a_command(make_target: TargetFactory) -> None:
    target = make_target()
    target.register_app(shop_app())
    for _ in range(20):
        target.post_command("shop", "promote")
    taken: list[list[str]] = []
    takers = [make_target() for _ in range(4)]

    def take(t: object) -> None:
        for _ in range(5):
            taken.append(t.take_commands("shop"))  # type: ignore[attr-defined]

    threads = [threading.Thread(target=take, args=(t,)) for t in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(batch) for batch in taken) == 20


def test_bad_commands_and_unknown_apps_are_refused(make_target: TargetFactory) -> None:
    target = make_target()
    target.register_app(shop_app())
    with pytest.raises(TargetError, match="command must be a word"):
        target.post_command("shop", "rm -rf /")
    with pytest.raises(UnknownApp):
        target.post_command("nope", "abort")
    assert target.take_commands("shop") == []
