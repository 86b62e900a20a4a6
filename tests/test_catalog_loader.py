"""The catalog directory, bundles.yaml, and the shipped tool_catalog/."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
import pytest

from funcdex_assets.catalog.bundles import load_bundles
from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import Catalog, load_catalog
from funcdex_assets.catalog.models import TOOL_NAME_PATTERN, Bundle

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
KNOWN = ("gmail", "googlecalendar", "jira")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(FIXTURES / "catalog_ok", target)
    return target


def funcdex_file(directory: Path, toolkit: str, tool_ids: list[str], toolkit_name: str | None = None) -> Path:
    entries = [
        {
            "toolkit_name": toolkit_name or toolkit,
            "tool_id": tool_id,
            "tool_description": f"Does {tool_id.lower()}.",
            "tool_input_parameters": {"q": {"type": "string", "required": True}},
            "tool_response_parameters": {"successful": {"type": "boolean", "required": True}},
        }
        for tool_id in tool_ids
    ]
    return write(directory / f"{toolkit}.json", json.dumps(entries))


def bundles_error(tmp_path: Path, text: str, known: tuple[str, ...] = KNOWN) -> CatalogError:
    path = write(tmp_path / "bundles.yaml", text)
    with pytest.raises(CatalogError) as info:
        load_bundles(path, known)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


# --------------------------------------------------------------------------- bundles.yaml


def test_load_bundles_keeps_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bundles.yaml",
        "toolkits: [jira, gmail]\n"
        "bundles:\n"
        "  gmail_googlecalendar: [gmail, googlecalendar]\n"
        "  jira-gmail: [jira, gmail]\n",
    )
    assert load_bundles(path, KNOWN) == (
        Bundle(name="jira", toolkits=("jira",)),
        Bundle(name="gmail", toolkits=("gmail",)),
        Bundle(name="gmail_googlecalendar", toolkits=("gmail", "googlecalendar")),
        Bundle(name="jira-gmail", toolkits=("jira", "gmail")),
    )
    only_bundles = write(tmp_path / "b2.yaml", "bundles:\n  x: [jira]\n")
    assert load_bundles(only_bundles, KNOWN) == (Bundle(name="x", toolkits=("jira",)),)


@pytest.mark.parametrize(
    ("text", "bundle", "expected"),
    [
        ("bundles:\n  mail: [gmail, gmial]\n", "mail", "unknown toolkit 'gmial'; known toolkits: gmail, googlecalendar, jira"),
        ("toolkits: [gmail, slack]\n", "slack", "unknown toolkit 'slack'; known toolkits: gmail, googlecalendar, jira"),
        ("toolkits: [gmail]\nbundles:\n  gmail: [gmail, jira]\n", "gmail", "the bundle name is defined twice"),
        ("toolkits: [jira, jira]\n", "jira", "the bundle name is defined twice"),
        ("bundles:\n  mail: [gmail]\n  mail: [jira]\n", "mail", "the bundle name is defined twice (lines 2 and 3)"),
        ("bundles:\n  mail: []\n", "mail", "the bundle is empty"),
        ("bundles:\n  mail:\n", "mail", "the bundle is empty"),
        ("bundles:\n  Mail Bundle: [gmail]\n", "Mail Bundle", "invalid bundle name; it becomes a Dagster partition key"),
        ("bundles:\n  _mail: [gmail]\n", "_mail", "invalid bundle name"),
        ("bundles:\n  mail: [gmail, gmail]\n", "mail", "toolkit 'gmail' is listed twice"),
        ("bundles:\n  mail: gmail\n", "mail", "a bundle is a list of toolkit names, got a string"),
    ],
)
def test_bundle_errors_name_file_and_bundle(tmp_path: Path, text: str, bundle: str, expected: str) -> None:
    error = bundles_error(tmp_path, text)
    assert error.bundle == bundle
    assert expected in error.reason
    assert f"bundle {bundle!r}" in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toolkits: [gmail]\ntoolkits: [jira]\n", "the key 'toolkits' appears twice (lines 1 and 2)"),
        ("bundles:\n  mail: [gmail\n", "not valid YAML at line"),
        ("toolkits: [gmail]\nbundle:\n  x: [jira]\n", "unknown top-level key(s) 'bundle'"),
        ("", "the file defines no bundles"),
        ("- gmail\n", "the top level must be a mapping"),
        ("toolkits: gmail\n", "'toolkits' must be a list"),
        ("bundles:\n  2024: [gmail]\n", "the bundle name 2024 is a number, not a string"),
    ],
)
def test_bundle_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    error = bundles_error(tmp_path, text)
    assert expected in error.reason


def test_missing_bundles_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="the bundles file does not exist"):
        load_bundles(tmp_path / "bundles.yaml", KNOWN)


# --------------------------------------------------------------------------- load_catalog


def test_load_catalog_of_all_three_formats() -> None:
    catalog = load_catalog(FIXTURES / "catalog_ok")

    assert catalog.toolkits() == ("geometry", "gmail", "weather")
    assert [(t.toolkit, t.name) for t in catalog.tools] == [
        ("geometry", "geometry__circle_area"),
        ("geometry", "geometry__square_area"),
        ("gmail", "GMAIL_LIST_THREADS"),
        ("gmail", "GMAIL_SEND_EMAIL"),
        ("weather", "get_forecast_for_weather_api"),
    ]
    assert {t.toolkit: t.source_format for t in catalog.tools} == {
        "geometry": "openai",
        "gmail": "funcdex",
        "weather": "toolbench",
    }
    assert [b.name for b in catalog.bundles] == ["gmail", "weather", "gmail_weather", "everything"]
    assert catalog.bundle("everything").toolkits == ("weather", "gmail", "geometry")
    assert [t.name for t in catalog.bundle_tools("gmail_weather")] == [
        "GMAIL_LIST_THREADS",
        "GMAIL_SEND_EMAIL",
        "get_forecast_for_weather_api",
    ]
    assert [t.name for t in catalog.bundle_tools("gmail")] == ["GMAIL_LIST_THREADS", "GMAIL_SEND_EMAIL"]


def test_reverse_name_mapping() -> None:
    catalog = load_catalog(FIXTURES / "catalog_ok")
    assert catalog.tool_by_original("geometry", "geometry.circle_area").name == "geometry__circle_area"
    assert catalog.tool_by_original("gmail", "SEND_EMAIL").name == "GMAIL_SEND_EMAIL"
    assert catalog.tool_by_original("weather", "Get Forecast").name == "get_forecast_for_weather_api"
    for tool in catalog.tools:
        assert catalog.tool_by_original(tool.toolkit, tool.original_name) is tool

    with pytest.raises(CatalogError) as info:
        catalog.tool_by_original("geometry", "geometry__circle_area")
    assert info.value.toolkit == "geometry"
    assert "geometry.circle_area, geometry.square_area" in info.value.reason
    with pytest.raises(CatalogError, match="known toolkits: geometry, gmail, weather"):
        catalog.tool_by_original("slack", "X")


def test_unknown_bundle_lists_known_bundles() -> None:
    catalog = load_catalog(FIXTURES / "catalog_ok")
    with pytest.raises(CatalogError) as info:
        catalog.bundle("gmail_slack")
    assert info.value.bundle == "gmail_slack"
    assert "known bundles: gmail, weather, gmail_weather, everything" in str(info.value)


def test_catalog_sorts_tools_itself() -> None:
    catalog = load_catalog(FIXTURES / "catalog_ok")
    shuffled = Catalog(tools=tuple(reversed(catalog.tools)), bundles=catalog.bundles)
    assert shuffled.tools == catalog.tools


def test_toolkit_name_must_match_file_stem(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    funcdex_file(directory, "gmail", ["SEND_EMAIL"], toolkit_name="googlemail")
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    error = info.value
    assert error.file == str(directory / "gmail.json")
    assert (error.toolkit, error.tool) == ("gmail", "SEND_EMAIL")
    assert "toolkit_name 'googlemail' differs from the file's toolkit 'gmail'" in error.reason


def test_openai_and_toolbench_files_take_the_stem_as_toolkit() -> None:
    catalog = load_catalog(FIXTURES / "catalog_ok")
    weather = catalog.tool_by_original("weather", "Get Forecast")
    assert weather.toolkit == "weather"  # not "weather_api" from tool_name
    assert weather.name == "get_forecast_for_weather_api"  # the name still follows ToolBench


def test_tool_name_clash_inside_a_bundle(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    ping = [{"name": "ping", "description": "Ping.", "parameters": {}}]
    write(directory / "alpha.json", json.dumps(ping))
    write(directory / "beta.json", json.dumps(ping))
    write(directory / "bundles.yaml", "toolkits: [alpha, beta]\nbundles:\n  alpha_beta: [alpha, beta]\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    error = info.value
    assert error.file == str(directory / "bundles.yaml")
    assert error.bundle == "alpha_beta"
    assert "toolkits 'alpha' and 'beta' both have a tool named 'ping'" in error.reason

    # Each alone is fine, and Catalog.bundle_tools reports the clash the same way.
    write(directory / "bundles.yaml", "toolkits: [alpha, beta]\n")
    catalog = load_catalog(directory)
    assert [t.toolkit for t in catalog.bundle_tools("alpha")] == ["alpha"]
    clashing = Catalog(tools=catalog.tools, bundles=(Bundle(name="ab", toolkits=("alpha", "beta")),))
    with pytest.raises(CatalogError, match="both have a tool named 'ping'"):
        clashing.bundle_tools("ab")


def test_catalog_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="the catalog directory does not exist"):
        load_catalog(tmp_path / "missing")

    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty / "bundles.yaml", "toolkits: []\n")
    with pytest.raises(CatalogError, match=r"has no \*\.json tool files"):
        load_catalog(empty)

    directory = copy_catalog(tmp_path)
    (directory / "bundles.yaml").unlink()
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    assert info.value.file == str(directory / "bundles.yaml")

    directory = copy_catalog(tmp_path / "second")
    funcdex_file(directory, "Google Mail", ["SEND"], toolkit_name="google_mail")
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    assert info.value.file == str(directory / "Google Mail.json")
    assert "Rename the file to google_mail.json." in str(info.value)


def test_bundle_naming_an_unknown_toolkit_in_catalog(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    write(directory / "bundles.yaml", "bundles:\n  mail: [gmail, slack]\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    assert info.value.bundle == "mail"
    assert "known toolkits: geometry, gmail, weather" in info.value.reason


def test_bad_tool_file_in_catalog_names_it(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    write(directory / "geometry.json", json.dumps([{"name": "area", "description": ""}]))
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    assert (info.value.file, info.value.toolkit, info.value.tool) == (
        str(directory / "geometry.json"), "geometry", "area",
    )


def test_loading_twelve_toolkits_of_twelve_tools_is_fast(tmp_path: Path) -> None:
    toolkits = [f"kit{index:02d}" for index in range(12)]
    for toolkit in toolkits:
        entries = []
        for number in range(12):
            entries.append(
                {
                    "toolkit_name": toolkit,
                    "tool_id": f"ACTION_{number}",
                    "tool_description": "Does something.",
                    "tool_input_parameters": {
                        f"param_{p}": {"type": "string", "description": "A value.", "required": p < 3}
                        for p in range(10)
                    }
                    | {"options": {"type": "object", "required": False, "properties": {"flag": {"type": "boolean", "required": True}}}},
                    "tool_response_parameters": {
                        "data": {"type": "object", "required": True},
                        "error": {"type": "string", "required": False},
                        "successful": {"type": "boolean", "required": True},
                    },
                }
            )
        write(tmp_path / f"{toolkit}.json", json.dumps(entries))
    write(tmp_path / "bundles.yaml", f"toolkits: [{', '.join(toolkits)}]\nbundles:\n  all: [{', '.join(toolkits)}]\n")

    started = time.perf_counter()
    catalog = load_catalog(tmp_path)
    elapsed = time.perf_counter() - started

    assert len(catalog.tools) == 144
    assert len(catalog.bundle_tools("all")) == 144
    assert elapsed < 1.0, f"loading took {elapsed:.2f}s"


# --------------------------------------------------------------------------- the shipped catalog


def test_shipped_tool_catalog_loads(repo_root: Path) -> None:
    directory = repo_root / "tool_catalog"
    if not any(directory.glob("*.json")) or not (directory / "bundles.yaml").exists():
        pytest.skip(f"{directory} has no *.json files or no bundles.yaml yet")

    started = time.perf_counter()
    catalog = load_catalog(directory)
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0, f"loading the shipped catalog took {elapsed:.2f}s"
    assert catalog.tools and catalog.bundles
    assert {tool.source_format for tool in catalog.tools} == {"funcdex"}
    assert set(catalog.toolkits()) == {path.stem for path in directory.glob("*.json")}
    for tool in catalog.tools:
        assert TOOL_NAME_PATTERN.match(tool.name)
        assert tool.name.startswith(f"{tool.toolkit.upper()}_")
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema["type"] == "object"
        assert catalog.tool_by_original(tool.toolkit, tool.original_name) is tool
    for bundle in catalog.bundles:
        tools = catalog.bundle_tools(bundle.name)
        assert {tool.toolkit for tool in tools} == set(bundle.toolkits)
