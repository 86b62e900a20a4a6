"""`funcdex`: the command line. `funcdex generate` runs the asset graph through Dagster."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.export.folder import OutputFolderError
from funcdex_assets.llm.options import LLMOptions, llm_from_options, llm_options
from funcdex_assets.locks import BusyError
from funcdex_assets.sampling.combos import DEFAULT_CHAIN_LENGTH
from funcdex_assets.runner import GenerationInterrupted, GenerationSummary, StageReport, generate

# Piped output (CI logs) gets a readable width instead of rich's 80-column default.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
STAGE_WIDTH = 26


def _stage_line(report: StageReport) -> None:
    meta = report.metadata
    if report.failed:
        console.print(f"  [bold]{report.bundle:<36}[/bold] {report.asset:<{STAGE_WIDTH}} [red]failed[/red] after "
                      f"{meta.get('llm_calls', 0)} model calls")
        return
    rows, accepted = meta.get("rows"), meta.get("accepted", meta.get("rows"))
    rejects = meta.get("rejected_by_reason") or {}
    detail = f"{accepted}/{rows} kept" if rows is not None else ""
    if rejects:
        detail += "  rejected: " + ", ".join(f"{k}={v}" for k, v in rejects.items())
    if report.asset == "training_dataset":
        detail = f"{rows} rows  split: {meta.get('split')}"
    console.print(f"  [bold]{report.bundle:<36}[/bold] {report.asset:<{STAGE_WIDTH}} {detail}")


def _print_summary(summary: GenerationSummary, bundles: list[str]) -> None:
    table = Table(title="funcdex generate", show_lines=False)
    for col in ("bundle", "combos", "scenarios", "valid", "meaning defects", "passed judge", "kept",
                "rejected by reason", "id grounding"):
        table.add_column(col)
    for bundle in bundles:
        if bundle in summary.failures:
            table.add_row(bundle, "-", "-", "-", "-", "-", "-", "FAILED", "-")
            continue
        m = lambda asset: summary.metadata(bundle, asset)  # noqa: E731
        # One source: parsed_dataset counts each reject once, at the stage that made it.
        rejects = m("parsed_dataset").get("rejected_by_reason") or {}
        v = m("validated_conversations")
        table.add_row(
            bundle, str(m("tool_combinations").get("rows", "-")), str(m("deduplicated_scenarios").get("accepted", "-")),
            str(v.get("accepted", "-")), f"{v.get('conversations_with_defects', '-')}/{v.get('accepted', '-')}",
            str(m("conversation_scores").get("accepted", "-")), str(m("parsed_dataset").get("rows", "-")),
            ", ".join(f"{k}={n}" for k, n in sorted(rejects.items())) or "none",
            f"{v.get('id_arguments_grounded', 0)}/{v.get('id_arguments', 0)}",
        )
    console.print(table)
    for bundle in bundles:
        shortfall = summary.metadata(bundle, "parsed_dataset").get("shortfall")
        if shortfall:
            console.print(f"[yellow]short[/yellow] {escape(shortfall)}", soft_wrap=True)
    for warning in summary.warnings:
        console.print(f"[yellow]warning[/yellow] {warning.bundle} {warning.asset} {warning.check}: "
                      f"{escape(warning.summary)}", soft_wrap=True)
    _print_published(summary)
    console.print(f"Dagster instance: {summary.dagster_home}  (DAGSTER_HOME={summary.dagster_home} dagster dev "
                  f"shows these runs)")
    calls = sum(int(r.metadata.get("llm_calls", 0)) for r in summary.stages)
    if any("llm_calls" in r.metadata for r in summary.stages):
        hits = sum(int(r.metadata.get("llm_cache_hits", 0)) for r in summary.stages)
        tokens = sum(int(r.metadata.get("prompt_tokens", 0)) + int(r.metadata.get("completion_tokens", 0))
                     for r in summary.stages)
        cost = sum(float(r.metadata.get("cost_usd", 0.0)) for r in summary.stages)
        console.print(f"LLM: {calls} calls, {hits} cache hits, {tokens:,} tokens, ${cost:.4f}")
    console.print(f"Pipeline time: {summary.seconds:.1f}s")
    for label, message in summary.failures.items():
        console.print(f"[red]FAILED {label}[/red]: {escape(message)}", soft_wrap=True)


def _print_published(summary: GenerationSummary) -> None:
    """What the folder holds now: the version this run published, or the one it left alone."""
    manifest = summary.manifest
    if manifest is None:
        before = f"version {summary.previous_version}" if summary.previous_version else "nothing published yet"
        console.print(f"Nothing published: {summary.out} is unchanged ({before}).", soft_wrap=True)
        return
    split = f"train {manifest.rows('train')}, test {manifest.rows('test')}"
    console.print(f"Published version {manifest.version} to {summary.out} ({split}; "
                  f"{len(manifest.bundles)} bundle(s): "
                  + ", ".join(f"{b} {e.rows}" for b, e in manifest.bundles.items()) + ")", soft_wrap=True)
    console.print(f"Files: {summary.out}/train.jsonl, {summary.out}/test.jsonl, {summary.out}/<bundle>/"
                  f"conversations.jsonl, {summary.out}/manifest.json", soft_wrap=True)
    for note in manifest.notes:
        console.print(f"[yellow]note[/yellow] {escape(note)}", soft_wrap=True)


@click.group()
def main() -> None:
    """Synthesize multi-turn function-calling datasets (Dagster asset graph)."""


@main.command("generate")
@click.option("--bundles", required=True, help="Comma-separated bundle names from tool_catalog/bundles.yaml.")
@click.option("--conversations", default=20, show_default=True, type=click.IntRange(min=1),
              help="Accepted conversations per bundle.")
@click.option("--seed", default=7, show_default=True, type=int, help="Same seed, same bytes.")
@click.option("--out", "out", default="outputs", show_default=True, type=click.Path(path_type=Path),
              help="Output folder for the JSONL files.")
@click.option("--thoughts/--no-thoughts", default=False, show_default=True,
              help="Include assistant thoughts (reasoning_content).")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="Catalog folder (toolkit files + bundles.yaml); default tool_catalog/.")
@click.option("--llm-url", default=None, envvar="FUNCDEX_LLM_BASE_URLS",
              help="OpenAI-compatible base URL(s), comma-separated (e.g. http://gpu:8000/v1). "
                   "Default: the embedded offline backend.")
@click.option("--model", default=None, envvar="FUNCDEX_LLM_MODEL", help="Model name served at --llm-url.")
@click.option("--wait", is_flag=True, help="If another run is using --out or the Dagster home, wait for it "
                                           "instead of stopping.")
@click.option("--allow-incomplete", is_flag=True,
              help="Publish although model requests failed after their retries (rows lost, conversations without "
                   "their system prompt). Default: such a round fails and a rerun fills the gaps.")
@click.option("--calls-per-conversation", default=DEFAULT_CHAIN_LENGTH, show_default=True,
              type=click.IntRange(min=1, max=40),
              help="Mean length of the sampled tool chains (planned calls per conversation; retries and "
                   "parallel fan-out add to it).")
@click.option("--meaning-check", "meaning_check", type=click.Choice(["error", "warn"]), default="error",
              show_default=True,
              help="A bundle whose accepted rows show meaning defects above 1% (false success, values nobody "
                   "gave, ...): error stops it unpublished; warn publishes it and prints the defects.")
@llm_options
def generate_cmd(bundles: str, conversations: int, seed: int, out: Path, thoughts: bool, catalog_dir: Path | None,
                 llm_url: str | None, model: str | None, wait: bool, allow_incomplete: bool,
                 calls_per_conversation: int, meaning_check: str, model_options: LLMOptions) -> None:
    """Materialize the whole graph for BUNDLES and write the dataset files."""
    names = [b.strip() for b in bundles.split(",") if b.strip()]
    if not names:
        raise click.BadParameter("name at least one bundle", param_hint="--bundles")
    llm = llm_from_options(llm_url, model, model_options, progress=console)
    backend = f"model {model} at {llm_url}" if llm else "embedded offline backend"
    console.print(f"Generating {conversations} conversations for {', '.join(names)} (seed {seed}, {backend})")

    def waiting(folder: Path, holder: str, seconds: float) -> None:
        console.print(f"waiting {seconds:.0f}s for {folder}: in use by {escape(holder)}", soft_wrap=True)

    try:
        summary = generate(names, conversations, seed, out, include_thoughts=thoughts, catalog_dir=catalog_dir,
                           on_stage=_stage_line, llm=llm, wait=wait, on_wait=waiting,
                           allow_incomplete=allow_incomplete, calls_per_conversation=calls_per_conversation,
                           meaning_check=meaning_check)
    except (CatalogError, OutputFolderError, BusyError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    except GenerationInterrupted as exc:
        console.print(f"[yellow]cancelled[/yellow] ({exc}): the run is marked canceled and nothing was "
                      f"published; {out} is unchanged. Rerun the same command to go on: finished steps' model "
                      "answers come from the cache.", soft_wrap=True)
        sys.exit(130)
    _print_summary(summary, names)
    sys.exit(0 if summary.ok else 1)


@main.command("report")
@click.argument("out", type=click.Path(path_type=Path, exists=True, file_okay=False))
def report_cmd(out: Path) -> None:
    """Check the JSONL files in OUT: rows parse, arguments validate, calls answered, ids grounded,
    and what the meaning detectors find (as `funcdex check` does). Lists the files read with
    their rows; exits 1 on any problem, 2 when OUT holds no file, no row or no readable row."""
    from typing import NoReturn

    from funcdex_assets.quality.lint import DatasetFileError, lint_files
    from funcdex_assets.quality.report import dataset_files, report_files

    def fail(message: str) -> NoReturn:
        console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
        sys.exit(2)

    files = dataset_files(out)
    if not files:
        fail(f"no conversations.jsonl / train.jsonl under {out}")
    try:
        report = report_files(files)
    except DatasetFileError as exc:
        fail(str(exc))

    console.print("files read:")
    for read in report.files:
        console.print(f"  {escape(str(read.path))}  {read.rows} rows ({read.unreadable} unreadable)", soft_wrap=True)
    for key, value in report.figures().items():
        # None: the figure has no denominator (no rows, calls or id arguments to count over).
        console.print(f"{key:32s} {'n/a' if value is None else value}")
    shown = 20
    for problem in report.problems[:shown]:
        console.print(f"[yellow]{escape(problem)}[/yellow]", soft_wrap=True)
    if len(report.problems) > shown:
        console.print(f"[yellow]... and {len(report.problems) - shown} more problems[/yellow]")
    if (reason := report.nothing_to_report()) is not None:
        fail(reason)
    _print_lint(lint_files(files))
    verified = _print_manifest_check(out)
    sys.exit(0 if not report.problems and verified else 1)


def _print_manifest_check(out: Path) -> bool:
    """Check OUT's files against the manifest of its current version (docs/outputs.md);
    False when one differs. A folder without one (not written by funcdex generate) passes."""
    from funcdex_assets.export.folder import verify_folder

    verification = verify_folder(out)
    if verification is None:
        console.print(f"manifest: none in {out} (not a folder funcdex generate published); files not verified",
                      soft_wrap=True)
        return True
    for problem in verification.problems:
        console.print(f"[red]manifest[/red] {escape(problem)}", soft_wrap=True)
    if not verification.problems:
        console.print(f"manifest: version {verification.version}, {len(verification.files)} files match "
                      "(rows and sha256)", soft_wrap=True)
    return not verification.problems


def _print_lint(report, max_defect_rate: float | None = None) -> None:
    """The detector table of a lint report and its summary line."""
    if report.table():
        table = Table(title="defects by detector (conversations with at least one)", show_lines=False)
        for col in ("code", "conversations", "share", "example"):
            table.add_column(col, overflow="fold")
        for entry in report.table():
            table.add_row(entry["code"], str(entry["conversations"]), f"{entry['share']:.1%}",
                          escape(entry["example"][:240]))
        console.print(table)
    line = (f"{report.defective} of {report.rows} conversations ({report.defect_rate:.1%}) have at least one "
            f"defect ({len(report.conversations_by_code)} kinds)")
    if max_defect_rate is not None:
        verdict = "[red]FAIL[/red]" if report.defect_rate > max_defect_rate else "[green]PASS[/green]"
        line += f"; maximum {max_defect_rate:.1%}: {verdict}"
    console.print(line)


def _dataset_paths(paths: tuple[Path, ...]) -> list[Path]:
    from funcdex_assets.quality.report import dataset_files

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            # Dot files are the tool's own bookkeeping (.funcdex-run.json), not rows.
            visible = [p for pattern in ("*.jsonl", "*.json") for p in sorted(path.glob(pattern))
                       if not p.name.startswith(".")]
            found = dataset_files(path) or [p for p in visible if p.suffix == ".jsonl"] or visible
            if not found:
                raise click.BadParameter(f"{path} holds no .jsonl / .json files (nothing published there yet?)",
                                         param_hint="PATHS")
            out.extend(found)
        else:
            out.append(path)
    return out


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--max-defect-rate", default=0.01, show_default=True, type=click.FloatRange(0, 1),
              help="Exit 1 when more than this share of conversations has at least one defect.")
@click.option("--ignore", default="", help="Comma-separated defect codes not to count (see docs/quality.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
def check_cmd(paths: tuple[Path, ...], max_defect_rate: float, ignore: str, as_json: bool) -> None:
    """Lint tool-calling datasets: every structural and meaning detector on every row of PATHS
    (JSONL or JSON files, or folders of them; OpenAI / TRL rows with `messages` and `tools`, or
    ShareGPT / Hermes rows with `<tool_call>` blocks). Prints the conversations per defect code
    with an example each; exits 1 when more than --max-defect-rate of them has a defect. Then
    the conversation shape against its goals (docs/quality.md), which never changes the exit code."""
    import json

    from funcdex_assets.offline.language import phrasebook
    from funcdex_assets.quality.findings import CODES
    from funcdex_assets.quality.lint import DatasetFileError, lint_files
    from funcdex_assets.quality.phrase_frames import frames_from_phrasebook
    from funcdex_assets.quality.report import shape_files

    skip = [c.strip() for c in ignore.split(",") if c.strip()]
    unknown = sorted(set(skip) - set(CODES))
    if unknown:
        raise click.BadParameter(f"unknown code(s) {', '.join(unknown)}; codes: {', '.join(CODES)}",
                                 param_hint="--ignore")
    files = _dataset_paths(paths)
    try:
        report = lint_files(files, ignore=skip)
    except DatasetFileError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    if not report.rows:
        console.print(f"[red]error:[/red] no rows in {', '.join(str(f) for f in files)}", soft_wrap=True)
        sys.exit(2)
    # The shape goals describe the data to aim for, not defects: shown, never part of the exit code.
    shape = shape_files(files, frames_from_phrasebook(phrasebook()))
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "max_defect_rate": max_defect_rate,
                               "passed": report.defect_rate <= max_defect_rate,
                               "files": [str(f) for f in files], "shape": shape.to_dict()},
                              indent=1, ensure_ascii=False))
    else:
        _print_lint(report, max_defect_rate)
        _print_shape(shape)
    sys.exit(1 if report.defect_rate > max_defect_rate else 0)


def _print_shape(shape) -> None:
    """The conversation-shape table (quality.shape) and the most used phrasebook frames."""
    table = Table(title=f"conversation shape ({shape.figures['conversations']} conversations; goals informative)")
    for col in ("metric", "value", "goal", "pass/fail"):
        table.add_column(col, overflow="fold")
    verdicts = {True: "[green]PASS[/green]", False: "[red]FAIL[/red]", None: "-"}
    for row in shape.rows():
        table.add_row(row["metric"], escape(row["value"]), row["goal"] or "-", verdicts[row["passed"]])
    console.print(table)
    if shape.top_frames:
        console.print("most used frames (share of user turns):")
        for use in shape.top_frames:
            console.print(f"  {use.share:6.1%}  {use.id:22s} {escape(use.template)}", soft_wrap=True)


@main.group("catalog")
def catalog_group() -> None:
    """Bring tools into the catalog: OpenAPI specs, MCP tool lists, OpenAI function lists."""


_CATALOG_OPTION = click.option(
    "--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
    help="Catalog folder to write into; default $FUNCDEX_CATALOG_DIR or tool_catalog/.")
_FORCE_OPTION = click.option("--force", is_flag=True, help="Replace the toolkit file if it exists.")
_DRY_RUN_OPTION = click.option("--dry-run", is_flag=True, help="Convert and report, write nothing.")


def _catalog_dir(catalog_dir: Path | None) -> Path:
    from funcdex_assets.defs.resources import CatalogResource

    return Path(catalog_dir) if catalog_dir else CatalogResource().path()


def _print_next_steps(path: Path, toolkit: str) -> None:
    from funcdex_assets.catalog.loader import load_catalog

    catalog_dir = path.parent
    console.print(f"Wrote {path}", soft_wrap=True)
    bundles = catalog_dir / "bundles.yaml"
    command = f"funcdex generate --bundles {toolkit}" + (
        f" --catalog {catalog_dir}" if catalog_dir.resolve() != _catalog_dir(None).resolve() else "")
    if not bundles.exists():
        console.print(f"To generate with it, create {bundles} naming it:\n  toolkits: [{toolkit}]\nthen: {command}",
                      markup=False, soft_wrap=True)
        return
    try:
        catalog = load_catalog(catalog_dir)
    except CatalogError as exc:
        console.print(f"[yellow]warning:[/yellow] the catalog does not load with this file: {escape(str(exc))}",
                      soft_wrap=True)
        sys.exit(1)
    if any(toolkit in bundle.toolkits for bundle in catalog.bundles):
        console.print(f"Bundles naming {toolkit} in {bundles} use the new file.", soft_wrap=True)
        return
    console.print(f"To generate with it, name it in {bundles}, alone or with other toolkits:\n"
                  f"  toolkits: [..., {toolkit}]\n"
                  f"  bundles:\n    <name>: [{toolkit}, <other toolkit>]\n"
                  f"then: {command}", markup=False, soft_wrap=True)


@catalog_group.command("import-openapi")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--toolkit", required=True, help="Toolkit name (the file becomes <catalog>/<toolkit>.json).")
@_CATALOG_OPTION
@_FORCE_OPTION
@click.option("--prefix", default="", help="Prepend PREFIX_ to every tool name (avoids clashes in bundles).")
@click.option("--max-depth", default=3, show_default=True, type=click.IntRange(min=1),
              help="How many times a recursive schema is expanded before it is cut.")
@click.option("--skip-broken", is_flag=True,
              help="Skip (and report) operations that cannot be converted instead of failing.")
@_DRY_RUN_OPTION
def import_openapi_cmd(spec: Path, toolkit: str, catalog_dir: Path | None, force: bool, prefix: str,
                       max_depth: int, skip_broken: bool, dry_run: bool) -> None:
    """Convert an OpenAPI 3.x / Swagger 2.0 SPEC (JSON or YAML) into a toolkit file."""
    from funcdex_assets.catalog.openapi import import_openapi
    from funcdex_assets.catalog.toolkit_file import writable_path, write_toolkit

    try:
        target = writable_path(_catalog_dir(catalog_dir), toolkit, force=force or dry_run)
        result = import_openapi(spec, toolkit=toolkit, prefix=prefix, max_depth=max_depth,
                                skip_broken=skip_broken)
        for line in result.report.lines():
            console.print(line, markup=False, soft_wrap=True)
        if dry_run:
            console.print(f"Dry run: {len(result.tools)} tools, nothing written ({target} untouched).",
                          markup=False, soft_wrap=True)
            return
        path = write_toolkit(result.tools, target.parent, toolkit, force=force)
    except CatalogError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    _print_next_steps(path, toolkit)


@catalog_group.command("import-tools")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--toolkit", required=True, help="Toolkit name (the file becomes <catalog>/<toolkit>.json).")
@_CATALOG_OPTION
@_FORCE_OPTION
@_DRY_RUN_OPTION
def import_tools_cmd(file: Path, toolkit: str, catalog_dir: Path | None, force: bool, dry_run: bool) -> None:
    """Normalise a tool list FILE (MCP tools/list result, OpenAI functions, ToolBench, Funcdex;
    JSON or YAML, format detected) into a toolkit file."""
    from funcdex_assets.catalog.loader import detect_format, parse_tool_data
    from funcdex_assets.catalog.mcp_format import next_cursor
    from funcdex_assets.catalog.openapi import is_openapi_document, load_spec
    from funcdex_assets.catalog.toolkit_file import writable_path, write_toolkit

    try:
        target = writable_path(_catalog_dir(catalog_dir), toolkit, force=force or dry_run)
        data = load_spec(file)
        if is_openapi_document(data):
            raise CatalogError("this is an OpenAPI / Swagger spec, not a tool list", file=str(file),
                               fix=f"Use: funcdex catalog import-openapi {file} --toolkit {toolkit}")
        try:
            fmt = detect_format(data)
        except CatalogError as exc:
            raise exc.with_context(file=str(file), toolkit=toolkit) from None
        tools = parse_tool_data(data, file=file, toolkit=toolkit)
        console.print(f"{file}: {fmt} format, {len(tools)} tools", markup=False, soft_wrap=True)
        for tool in tools:
            mapped = f"  (from {tool.original_name!r})" if tool.original_name != tool.name else ""
            console.print(f"  {tool.name}{mapped}", markup=False, soft_wrap=True)
        cursor = next_cursor(data) if fmt == "mcp" else None
        if cursor:
            console.print(f"[yellow]warning:[/yellow] the tools/list result is paginated (nextCursor "
                          f"{cursor!r}); only this page is imported", soft_wrap=True)
        if dry_run:
            console.print(f"Dry run: nothing written ({target} untouched).", markup=False, soft_wrap=True)
            return
        path = write_toolkit(tools, target.parent, toolkit, force=force)
    except CatalogError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    _print_next_steps(path, toolkit)


if __name__ == "__main__":
    main()
