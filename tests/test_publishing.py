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
    assert config["repository"]["branch"] == "editions"  # the launch button opens the Colab edition


def test_a_newer_push_to_main_does_not_cancel_a_deploy_in_progress():
    concurrency = workflow()["concurrency"]
    assert concurrency["cancel-in-progress"] in (False, "${{ github.event_name == 'pull_request' }}")


def test_the_workflow_executes_and_publishes_both_editions_to_the_branch_colab_opens():
    spec = workflow()
    commands = [step.get("run", "") for step in spec["jobs"]["build"]["steps"]]
    assert any("pytest" in command and "_build/colab" in command for command in commands)
    assert "editions-check" in (ROOT / "Makefile").read_text().split("test:")[1].split("\n")[0]
    publish = spec["jobs"]["publish-editions"]
    assert publish["needs"] == "build" and publish["permissions"] == {"contents": "write"}
    assert "refs/heads/main" in publish["if"] and "pull_request" in publish["if"]
    script = next(step["run"] for step in publish["steps"] if "run" in step)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    branch = config["repository"]["branch"]
    assert f"--initial-branch {branch}" in script and script.rstrip().endswith(branch)
    assert "mv ../editions/colab notebooks" in script  # the path the launch button opens on that branch
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import editions
    finally:
        sys.path.pop(0)
    assert editions.EDITIONS_BRANCH == branch and editions.published_folder("colab") == "notebooks"


def test_readme_says_which_pages_setting_publishing_needs_and_how_to_get_the_cpu_wheel():
    readme = (ROOT / "README.md").read_text()
    assert "Settings → Pages" in readme and "GitHub Actions" in readme
    assert "download.pytorch.org/whl/cpu" in readme and "python3-venv" in readme
