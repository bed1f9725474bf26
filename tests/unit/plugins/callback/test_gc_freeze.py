"""The gc_freeze callback: at each task's start the young garbage is collected and the rest frozen, so forked workers
do not walk the controller's objects; and enabled in the collection's ansible.cfg."""
import configparser
import gc
import weakref
from pathlib import Path

import pytest

from ansible_collections.strix.opencode.plugins.callback import gc_freeze

ROOT = Path(__file__).resolve().parents[4]


class Node:
    """An object that can hold a cycle and be watched by a weak reference."""
    link = None


@pytest.fixture
def callback():
    gc.unfreeze()
    yield gc_freeze.CallbackModule()
    gc.unfreeze()


@pytest.mark.parametrize("start", ["task", "handler"])
def test_a_task_start_freezes_the_objects_there(callback, start):
    assert gc.get_freeze_count() == 0
    kept = [Node() for number in range(100)]
    if start == "task":
        callback.v2_playbook_on_task_start(None, False)
    else:
        callback.v2_playbook_on_handler_task_start(None)
    assert gc.get_freeze_count() >= len(kept)


def test_the_young_garbage_of_the_task_before_is_collected_not_frozen(callback):
    gc.collect()
    node = Node()
    node.link = node  # a cycle: only the collector frees it
    watch = weakref.ref(node)
    del node
    callback.v2_playbook_on_task_start(None, False)
    assert watch() is None


def test_enabled_in_the_collections_ansible_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    enabled = [name.strip() for name in config["defaults"]["callbacks_enabled"].split(",")]
    assert "strix.opencode.gc_freeze" in enabled
