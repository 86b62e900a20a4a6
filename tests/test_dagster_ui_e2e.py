"""The project as users run it: `dagster dev` (webserver + daemon) on 127.0.0.1 against a fresh
Postgres database, driven through the GraphQL API the UI uses and through the UI itself in
headless Chromium.

* a partition launched through GraphQL materializes; runs, events and partitions land in Postgres;
* the asset graph page and a partitioned asset's partitions page show the assets and partitions;
* the sensor, switched on as in the UI, turns a toolkit file dropped into the catalog and named in
  bundles.yaml into a partition and runs it (the backfill of new toolkits);
* a backfill over all partitions, launched as the UI's "Materialize all" does, completes.

Every process the module starts is stopped by its id at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from dagster_dev import REPOSITORY, DagsterDev, instance_with_catalog, sql as _sql

REPO = Path(__file__).resolve().parents[1]
FIRST, NEW = "whatsapp", "calendly"
BUNDLE_ASSETS = ["bundle_tools", "tool_combinations", "scenarios", "deduplicated_scenarios", "personas", "outlines",
                 "dml_conversations", "validated_conversations", "conversation_scores",
                 "deduplicated_conversations", "parsed_dataset", "conversation_diversity"]
ALL_ASSETS = ["tool_catalog", *BUNDLE_ASSETS, "training_dataset", "dataset_diversity"]
SMALL = {"resources": {"settings": {"config": {"conversations_per_bundle": 2}}}}

LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
RUNS_FOR_PARTITION = """
query($value: String!) { runsOrError(filter: {tags: [{key: "dagster/partition", value: $value}]}) {
  ... on Runs { results { runId status } } } }"""
LAST_TICK = """
query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { sensorState {
  ticks(limit: 1) { status timestamp runIds skipReason error { message } } } } } }"""


@pytest.fixture(scope="module")
def ui(fresh_postgres_db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    # A catalog with one toolkit; the sensor test drops a second one in.
    home, catalog = instance_with_catalog(tmp, REPO, [FIRST])
    env = {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": fresh_postgres_db,
           "FUNCDEX_CATALOG_DIR": str(catalog), "FUNCDEX_OUTPUT_DIR": str(tmp / "out"),
           # Automation starts stopped, as for a UI session; the sensor test switches it on.
           "FUNCDEX_AUTOMATION": "off", "FUNCDEX_SENSOR_INTERVAL_S": "5"}
    dev = DagsterDev(tmp, env, REPO)
    try:
        dev.wait_ready()
        yield dev, tmp, catalog, fresh_postgres_db
    finally:
        dev.stop()


@pytest.fixture(scope="module")
def first_run(ui):
    """The first bundle's partition, added and launched through GraphQL as the UI does."""
    dev, tmp, _, _ = ui
    dev.add_partition(FIRST)
    params = {"selector": {**REPOSITORY, "jobName": "generate_bundle"}, "runConfigData": SMALL,
              "executionMetadata": {"tags": [{"key": "dagster/partition", "value": FIRST}]}}
    launched = dev.graphql(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = dev.wait_run(run_id)
    assert status == "SUCCESS", (status, dev.log_tail())
    return run_id


def test_a_partition_launched_through_graphql_materializes_into_postgres(ui, first_run):
    dev, tmp, _, url = ui
    rows = (tmp / "out" / FIRST / "conversations.jsonl").read_text().splitlines()
    assert len(rows) == 2 and json.loads(rows[0])["bundle"] == FIRST
    # Runs, event logs and dynamic partitions are in the Postgres database, not in DAGSTER_HOME.
    assert _sql(url, "SELECT status FROM runs WHERE run_id = %s", first_run) == [("SUCCESS",)]
    assert _sql(url, "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'bundles'") == [(FIRST,)]
    materialized = {key for (key,) in _sql(
        url, "SELECT DISTINCT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = "
             "'ASSET_MATERIALIZATION'", first_run)}
    assert {json.loads(k)[0] for k in materialized} == set(BUNDLE_ASSETS)
    assert not (tmp / "home" / "history" / "runs.db").exists()  # no SQLite run storage beside it


# --- the UI itself, in headless Chromium -----------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = f"{CHROMIUM} / {CHROMEDRIVER} absent: install Debian's chromium and chromium-driver (.ci/run does)"
        if os.environ.get("FUNCDEX_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1000", "--disable-background-networking", "--disable-extensions",
                 "--disable-sync", "--no-first-run", "--disable-component-update", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver_pid = service.process.pid
    try:
        yield driver
    finally:
        driver.quit()
        from dagster_dev import descendants

        for pid in [driver_pid, *descendants(driver_pid)]:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def _page_text(dev: DagsterDev, driver, must_contain: list[str]) -> str:
    """The page's text once it shows every string of `must_contain`. Progress: which of them it
    shows (not the text itself, which relative times keep changing)."""
    from selenium.webdriver.common.by import By

    def observe() -> tuple[tuple[str, ...], str]:
        text = driver.find_element(By.TAG_NAME, "body").text
        return tuple(s for s in must_contain if s in text), text
    try:
        return dev.wait(observe, f"{must_contain} on {driver.current_url}",
                        done=lambda state: len(state[0]) == len(must_contain), progress=lambda state: state[0])[1]
    except AssertionError:
        driver.save_screenshot(str(Path(driver.capabilities["chrome"]["userDataDir"]).parent / "failure.png"))
        raise


def test_the_asset_graph_page_shows_every_asset_and_the_partitions(ui, first_run, browser):
    dev = ui[0]
    browser.get(f"{dev.url}/asset-groups")
    _page_text(dev, browser, ["Global asset lineage", *ALL_ASSETS])
    # The graph itself (not only the sidebar) draws a node per asset.
    nodes = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-testid^=\"asset-node\"], foreignObject')).length")
    assert nodes >= len(ALL_ASSETS), nodes
    browser.get(f"{dev.url}/assets/parsed_dataset?view=partitions")
    text = _page_text(dev, browser, [FIRST, "Materialized (1)"])
    assert "Missing (0)" in text


# --- automation under the running daemon -----------------------------------------------------


def test_a_new_toolkit_dropped_in_becomes_a_partition_and_runs(ui, first_run):
    dev, tmp, catalog, url = ui
    started = dev.graphql("""mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
        __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }""",
                          {"s": {**REPOSITORY, "sensorName": "bundle_partitions_sensor"}})["startSensor"]
    assert started["__typename"] == "Sensor" and started["sensorState"]["status"] == "RUNNING", started
    # What a user does: drop the toolkit file in and name it in bundles.yaml.
    shutil.copy(REPO / "tool_catalog" / f"{NEW}.json", catalog)
    (catalog / "bundles.yaml").write_text(yaml.safe_dump({"toolkits": [FIRST, NEW]}))

    def observe() -> tuple:
        runs = dev.graphql(RUNS_FOR_PARTITION, {"value": NEW})["runsOrError"]["results"]
        ticks = dev.graphql(LAST_TICK, {"s": {**REPOSITORY, "sensorName": "bundle_partitions_sensor"}})
        tick = (ticks["sensorOrError"].get("sensorState") or {}).get("ticks") or [{}]
        partitions = sorted(p for (p,) in _sql(url, "SELECT partition FROM dynamic_partitions"))
        return tuple(r["runId"] for r in runs), partitions, tick[0]
    # Progress: the partitions, the new partition's runs and what the sensor's last tick did, not
    # when (a sensor skipping every tick makes none).
    run_id = dev.wait(observe, f"the sensor's run for {NEW}", done=lambda state: state[0], progress=lambda state: (
        state[0], state[1], {k: v for k, v in state[2].items() if k != "timestamp"}))[0][0]
    status = dev.wait_run(run_id)
    assert status == "SUCCESS", (status, dev.log_tail())
    partitions = {p for (p,) in _sql(url, "SELECT partition FROM dynamic_partitions")}
    assert partitions == {FIRST, NEW}
    # Only the new bundle got a run: the one already there was not redone.
    assert len(dev.graphql(RUNS_FOR_PARTITION, {"value": FIRST})["runsOrError"]["results"]) == 1
    assert (tmp / "out" / NEW / "conversations.jsonl").exists()


def test_a_backfill_over_all_partitions_completes(ui, first_run):
    dev, tmp, catalog, url = ui
    # Two partitions at least, so "all partitions" means more than one (the sensor test, when it
    # ran first, already added the second).
    shutil.copy(REPO / "tool_catalog" / f"{NEW}.json", catalog)
    (catalog / "bundles.yaml").write_text(yaml.safe_dump({"toolkits": [FIRST, NEW]}))
    if (NEW,) not in _sql(url, "SELECT partition FROM dynamic_partitions"):
        dev.add_partition(NEW)
    names = sorted(p for (p,) in _sql(url, "SELECT partition FROM dynamic_partitions"))
    assert FIRST in names
    state = dev.backfill_all_partitions(BUNDLE_ASSETS, SMALL)
    assert state["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (state, dev.log_tail())
    assert state["numPartitions"] == len(names)
    stats = dev.graphql("""{ assetNodeOrError(assetKey: {path: ["parsed_dataset"]}) { ... on AssetNode {
        partitionStats { numMaterialized numPartitions numFailed } } } }""")["assetNodeOrError"]["partitionStats"]
    assert stats == {"numMaterialized": len(names), "numPartitions": len(names), "numFailed": 0}
