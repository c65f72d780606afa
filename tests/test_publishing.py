"""Publishing: the GitHub Actions workflow that tests, builds and deploys the book, and the buttons a
reader of the HTML book gets (repository, issues, download, launch in Colab)."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_validates_against_the_github_workflow_schema():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_runs_the_readme_test_command_then_uploads_the_html():
    build = workflow()["jobs"]["build"]
    commands = [step.get("run", "") for step in build["steps"]]
    assert any(command.startswith("make test") for command in commands), "the workflow must run `make test`"
    assert "make test" in (ROOT / "README.md").read_text() and "make test" in (ROOT / ".ci" / "run").read_text()
    assert "jupyter-book build . -W" in (ROOT / "Makefile").read_text(), "the book must build with -W"
    python = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/setup-python"))
    assert str(python["with"]["python-version"]) == "3.11"
    upload = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"


def test_workflow_deploys_to_pages_from_main_only():
    spec = workflow()
    triggers = spec.get("on", spec.get(True))  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    deploy = spec["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in deploy["steps"])


def test_book_has_repository_issue_download_and_colab_buttons():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    html = config["html"]
    assert html["use_repository_button"] and html["use_issues_button"] and html["use_download_button"]
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["repository"]["branch"] == "main"
