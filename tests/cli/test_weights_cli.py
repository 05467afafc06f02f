"""`crew weights ahp|combine|show`, driven in-process under a root app like crew.cli's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import cast

import typer
from typer.testing import CliRunner

from crew.cli.weights import weights_app
from crew.errors import InconsistentJudgementsError
from crew.store import Workspace
from crew.store.weights import list_weight_sets, load_weights, save_weights

root = typer.Typer()


@root.callback()
def _root(
    ctx: typer.Context,
    workspace: Path = typer.Option(None, "--workspace", "-w"),  # noqa: B008
) -> None:
    ctx.obj = workspace if workspace is not None else Path.cwd()


root.add_typer(weights_app, name="weights")

JUDGEMENTS = """\
dimensions:
  criteria: [value, trust, complaints]
  matrix: [[1, 2, 4], [1/2, 1, 2], [1/4, 1/2, 1]]
indicators:
  complaints:
    criteria: [complaint_count_30d, complaint_growth, open_ticket_count]
    pairs:
      complaint_count_30d/complaint_growth: 1/2
      complaint_count_30d/open_ticket_count: 3
      complaint_growth/open_ticket_count: 4
"""

# Saaty (1990) house example: CR 0.169, refused.
INCONSISTENT = """\
dimensions:
  criteria: [size, transport, neighborhood, age, yard, modern, condition, financing]
  matrix:
    - [1, 5, 3, 7, 6, 6, 1/3, 1/4]
    - [1/5, 1, 1/3, 5, 3, 3, 1/5, 1/7]
    - [1/3, 3, 1, 6, 3, 4, 6, 1/5]
    - [1/7, 1/5, 1/6, 1, 1/3, 1/4, 1/7, 1/8]
    - [1/6, 1/3, 1/3, 3, 1, 1/2, 1/5, 1/6]
    - [1/6, 1/3, 1/4, 4, 2, 1, 1/5, 1/6]
    - [3, 5, 1/6, 7, 5, 5, 1, 1/2]
    - [4, 7, 5, 8, 6, 6, 2, 1]
"""


def _crew(cli: CliRunner, ws: Workspace, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(root, ["--workspace", str(ws.root), "weights", *args])
    return result.exit_code, result.stdout, result.stderr


def _judgements(tmp_path: Path, text: str = JUDGEMENTS) -> Path:
    path = tmp_path / "judgements.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_ahp_prints_weights_and_cr_and_stores_them(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    path = _judgements(tmp_path)
    code, out, err = _crew(cli, workspace, "ahp", "--matrix", str(path))
    assert code == 0, err
    assert "0.5714" in out  # value = 4/7
    assert "indicators.complaints" in out and "dimensions" in out
    assert "Stored as weight set ahp" in out
    with workspace.connect() as conn:
        stored = load_weights(conn, "ahp")
    assert set(stored.weights) == {"dimensions", "indicators", "indicators:complaints"}
    assert abs(stored.weights["dimensions"]["value"] - 4 / 7) < 1e-9
    provenance = stored.provenance["dimensions"]
    assert provenance["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance["source"] == str(path.resolve())
    ratios = cast(dict[str, float], provenance["consistency_ratios"])
    assert set(ratios) == {"dimensions", "indicators.complaints"}


def test_ahp_json_output_parses(cli: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    path = _judgements(tmp_path)
    code, out, _ = _crew(cli, workspace, "ahp", "--matrix", str(path), "--name", "mine", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["weight_set"] == "mine"
    assert abs(sum(payload["weights"]["dimensions"].values()) - 1) < 1e-9
    complaints = payload["consistency"]["indicators.complaints"]
    assert complaints["n"] == 3 and 0 < complaints["consistency_ratio"] < 0.1
    assert payload["consistency"]["dimensions"]["consistency_ratio"] < 1e-9


def test_inconsistent_matrix_exits_non_zero_and_stores_nothing(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    path = _judgements(tmp_path, INCONSISTENT)
    code, out, err = _crew(cli, workspace, "ahp", "--matrix", str(path))
    assert code == InconsistentJudgementsError.exit_code != 0
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "CR = 0.169" in error_lines[0] and "dimensions" in error_lines[0]
    assert "hint:" in err and "neighborhood vs condition" in err
    assert out == ""
    with workspace.connect() as conn:
        assert list_weight_sets(conn) == []


def test_combine_stores_the_result_with_both_inputs_named(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    _crew(cli, workspace, "ahp", "--matrix", str(_judgements(tmp_path)))
    with workspace.connect() as conn:
        ahp = load_weights(conn, "ahp").weights["indicators"]
        entropy = dict.fromkeys(ahp, 1 / 3)
        save_weights(conn, "entropy", "indicators", entropy, "entropy", {"method": "entropy"})
    code, out, err = _crew(
        cli,
        workspace,
        "combine",
        "--subjective",
        "ahp",
        "--objective",
        "entropy",
        "--method",
        "linear",
        "--alpha",
        "0.5",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert list(payload["weights"]) == ["indicators"]  # the only scope both sets have
    with workspace.connect() as conn:
        stored = load_weights(conn, "combined")
    for item, w in stored.weights["indicators"].items():
        # linear, alpha .5, after rescaling the AHP global weights (complaints only) to sum 1
        expected = 0.5 * ahp[item] / sum(ahp.values()) + 0.5 / 3
        assert abs(w - expected) < 1e-9
    provenance = stored.provenance["indicators"]
    assert provenance["subjective"] == "ahp" and provenance["objective"] == "entropy"
    assert provenance["alpha"] == 0.5 and provenance["method"] == "combined-linear"
    assert "dimensions" in cast(list[str], provenance["skipped_scopes"])


def test_combine_refuses_bad_alpha_and_unknown_sets(
    cli: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    _crew(cli, workspace, "ahp", "--matrix", str(_judgements(tmp_path)))
    code, _, err = _crew(
        cli, workspace, "combine", "--subjective", "ahp", "--objective", "nope", "--method",
        "multiplicative",
    )  # fmt: skip
    assert code != 0 and "error: No weight set named 'nope'" in err
    code, _, err = _crew(
        cli, workspace, "combine", "--subjective", "ahp", "--objective", "ahp", "--method",
        "linear", "--alpha", "2", "--name", "c",
    )  # fmt: skip
    assert code != 0 and "alpha is 2" in err
    with workspace.connect() as conn:
        assert [s.name for s in list_weight_sets(conn)] == ["ahp"]


def test_show_lists_sets_and_one_set(cli: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    code, out, _ = _crew(cli, workspace, "show")
    assert code == 0 and "No weight sets stored yet" in out
    _crew(cli, workspace, "ahp", "--matrix", str(_judgements(tmp_path)))
    code, out, _ = _crew(cli, workspace, "show", "--json")
    assert code == 0
    (listed,) = json.loads(out)["weight_sets"]
    assert listed["name"] == "ahp" and listed["items"] == 3 + 3 + 3
    code, out, _ = _crew(cli, workspace, "show", "ahp", "--json")
    payload = json.loads(out)
    assert payload["provenance"]["dimensions"]["method"] == "ahp"
    assert set(payload["weights"]["indicators:complaints"]) == {
        "complaint_count_30d",
        "complaint_growth",
        "open_ticket_count",
    }
    code, out, _ = _crew(cli, workspace, "show", "ahp")
    assert code == 0 and "complaint_growth" in out and "sha256" in out
    code, _, err = _crew(cli, workspace, "show", "missing")
    assert code != 0 and "error: No weight set named 'missing'" in err


def test_combine_uses_the_items_both_sets_weight(workspace: Workspace, cli: CliRunner) -> None:
    with workspace.connect() as conn:
        save_weights(conn, "judged", "indicators", {"a": 0.6, "b": 0.4}, "ahp", {"m": "ahp"})
        save_weights(
            conn, "data", "indicators", {"a": 0.2, "b": 0.2, "c": 0.6}, "entropy", {"m": "e"}
        )
    result = cli.invoke(
        root,
        [
            "-w",
            str(workspace.root),
            "weights",
            "combine",
            "--subjective",
            "judged",
            "--objective",
            "data",
            "--method",
            "multiplicative",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    # a: 0.6 x 0.5, b: 0.4 x 0.5 (the objective weights of a and b rescaled to sum 1)
    assert payload["weights"]["indicators"] == {"a": 0.6, "b": 0.4}
    assert payload["provenance"]["items_weighted_by_one_set_only"] == {"indicators": ["c"]}
