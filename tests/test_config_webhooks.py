"""`[[webhooks]]` and `[notify]` in crew.toml: documented, strict, and secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from crew.config import NotifySettings, WebhookSettings, load_config
from crew.errors import ConfigError
from crew.types import Level, NotificationEvent


@pytest.mark.parametrize("model", [WebhookSettings, NotifySettings])
def test_every_setting_is_described(model: type[BaseModel]) -> None:
    assert all(field.description for field in model.model_fields.values())


def test_webhooks_load_with_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "crew.toml"
    path.write_text(
        '[[webhooks]]\nname = "crm"\nurl = "https://crm.example/hooks"\n'
        'secret_env = "CRM_SECRET"\nmin_level = "medium"\n\n[notify]\ninterval_s = 5\n',
        encoding="utf-8",
    )
    settings = load_config(path, env={})
    [hook] = settings.webhooks
    assert (hook.max_attempts, hook.timeout_s, hook.min_level) == (6, 10.0, Level.MEDIUM)
    assert hook.events == [
        NotificationEvent.OPENED,
        NotificationEvent.ESCALATED,
        NotificationEvent.RESOLVED,
    ]
    assert settings.notify.interval_s == 5 and settings.notify.stream_poll_s == 0.5


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "a"\nurl = "http://x/"', "set exactly one of secret_env (preferred) and secret"),
        ('name = "a"\nurl = "ftp://x/"\nsecret_env = "S"', "webhooks.0.url: String should match"),
        ('name = "a"\nurl = "http://x/"\nsecret_env = "S"\nevents = ["held"]', "never sent"),
        ('name = "a"\nurl = "http://x/"\nsecret_env = "S"\nmax_attempts = 0', "max_attempts"),
    ],
)
def test_a_wrong_webhook_names_the_file_and_field(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "crew.toml"
    path.write_text(f"[[webhooks]]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert str(raised.value).startswith(f"{path}: webhooks") and message in str(raised.value)
    assert raised.value.exit_code == 2


def test_a_short_secret_is_refused_without_being_repeated(tmp_path: Path) -> None:
    path = tmp_path / "crew.toml"
    path.write_text(
        '[[webhooks]]\nname = "a"\nurl = "http://x/"\nsecret = "hunter2"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert "webhooks.0.secret" in str(raised.value) and "hunter2" not in str(raised.value)


def test_webhook_names_are_unique(tmp_path: Path) -> None:
    path = tmp_path / "crew.toml"
    hook = '[[webhooks]]\nname = "crm"\nurl = "http://x/"\nsecret_env = "S"\n'
    path.write_text(hook + hook, encoding="utf-8")
    with pytest.raises(ConfigError, match="webhook names must be unique; repeated: crm"):
        load_config(path, env={})
