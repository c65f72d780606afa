import pytest
import torch

from helpers import claims
from helpers.claims import ClaimFailed, claim


@pytest.fixture(autouse=True)
def no_recorded_claims():
    claims.clear_records()
    yield
    claims.clear_records()


def test_claim_prints_when_it_holds_and_raises_with_the_numbers_when_not(capsys):
    claim("two is less than three", 2 < 3, value=torch.tensor(2.0), values=torch.tensor([1.0, 2.5]))
    assert capsys.readouterr().out.strip() == "✔ two is less than three  [value = 2, values = [1, 2.5]]"
    with pytest.raises(ClaimFailed, match=r"claim does not hold: D\* is 1  \[D_star = 0.8\]"):
        claim("D* is 1", False, D_star=0.8)


def test_glue_returns_nothing_so_cells_show_no_stray_output():
    from helpers.claims import glue

    assert glue("a_number", torch.tensor(2.5)) is None


def test_claim_in_report_mode_prints_a_failure_and_goes_on(monkeypatch, capsys):
    monkeypatch.setenv("SUPERPOSITION_CLAIMS", "report")
    claim("D* is 1", False, D_star=0.8)
    assert capsys.readouterr().out.strip() == "✘ D* is 1  [D_star = 0.8]"
    monkeypatch.setenv("SUPERPOSITION_CLAIMS", "ignore")
    with pytest.raises(ValueError, match="SUPERPOSITION_CLAIMS"):
        claim("D* is 1", True)


def test_a_demonstration_is_labelled_and_kind_is_checked(capsys):
    claim("E[x] = p/2", True, kind="demonstration")
    assert capsys.readouterr().out.strip() == "✔ (demonstration) E[x] = p/2"
    with pytest.raises(ValueError, match="kind must be one of"):
        claim("E[x] = p/2", True, kind="theorem")


def test_a_claim_is_recorded_with_its_evidence():
    claim(
        "D* is 1",
        True,
        source="TMS §3, uniform importance",
        expected=1.0,
        tolerance="±0.05",
        D_star=torch.tensor(0.98),
    )
    claim("E[x] = p/2", True, kind="demonstration")
    first, second = claims.records()
    assert (first.index, first.statement, first.kind, first.holds) == (0, "D* is 1", "finding", True)
    assert first.measured == {"D_star": "0.98"} and first.expected == "1" and first.tolerance == "±0.05"
    assert first.source == "TMS §3, uniform importance"
    assert (second.index, second.kind, second.source) == (1, "demonstration", None)


def test_a_failed_claim_is_recorded_as_failed_in_report_mode(monkeypatch):
    monkeypatch.setenv("SUPERPOSITION_CLAIMS", "report")
    claim("D* is 1", False, D_star=0.8)
    assert claims.records()[0].holds is False


def test_records_survive_their_hidden_output():
    claim('a "quoted" <claim> & more', True, source="closed form", values=torch.tensor([1.0, 2.0]))
    claim("second", True, kind="demonstration")
    found = claims.records()
    data, metadata = claims.records_output(found)
    assert metadata["scrapbook"]["name"] == "claim-records-0"
    assert claims.parse_records(data) == found
    stripped = {key.rsplit("/", 2)[-2] + "/" + key.rsplit("/", 1)[-1]: value for key, value in data.items()}
    assert claims.parse_records(stripped) == found  # as myst-nb stores it, without the hidden prefix
    assert claims.parse_records({"text/plain": "no claim here"}) == []
    with pytest.raises(ValueError, match="records"):
        claims.records_output([])


def test_bad_claims_are_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="statement"):
        claim("", True)
    with pytest.raises(ValueError, match="source"):
        claim("D* is 1", True, source=" ")
    assert claims.records() == []


def test_in_a_notebook_a_cells_records_follow_its_printed_lines_in_one_output(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from helpers.claims import claim\n"
            "claim('one', True, source='s', x=1)\n"
            "claim('two', True, kind='demonstration', source='t')"
        ),
        nbformat.v4.new_code_cell("print('no claim here')"),
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    first, second = (cell.outputs for cell in notebook.cells)
    assert [output.output_type for output in first] == ["stream", "display_data"]
    assert first[0].text.splitlines() == ["✔ one  [x = 1]", "✔ (demonstration) two"]
    assert first[1].metadata["scrapbook"]["name"] == "claim-records-0"  # a glue value: not rendered
    found = claims.parse_records(first[1].data)
    assert [(r.index, r.statement, r.source) for r in found] == [(0, "one", "s"), (1, "two", "t")]
    assert [output.output_type for output in second] == ["stream"]
