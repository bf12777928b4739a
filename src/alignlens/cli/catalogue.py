"""`alignlens scenarios | lenses | examples`: what ships with alignlens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alignlens.cli.console import AsJson, console, print_json, reports_errors
from alignlens.lenses import lens_registry
from alignlens.report.document import lens_document
from alignlens.report.terminal import examples_table, lenses_table, scenarios_table
from alignlens.scenarios.catalogue import scenarios as catalogue
from alignlens.world.examples import copy_examples, example_paths, example_summary, examples_dir


@reports_errors
def scenarios() -> None:
    """List the scenarios: the essay's cases, each with a one-line card."""
    console.print(scenarios_table(list(catalogue().values())))


@reports_errors
def lenses(json_output: AsJson = False) -> None:
    """List the lenses: each definition of inner and outer alignment a verdict is given
    under, with the line it formalises (lenses other packages register included)."""
    if json_output:
        print_json([lens_document(entry) for entry in lens_registry()])
    else:
        console.print(lenses_table(lens_registry()))


@reports_errors
def examples(
    copy: Annotated[
        Path | None,
        typer.Option(
            metavar="FOLDER", help="Copy the example files (with policies/) into FOLDER/examples."
        ),
    ] = None,
) -> None:
    """List the example world files that ship with alignlens. A path examples/FILE that is
    not in the current folder is read from them, so the documented commands run anywhere."""
    folder = examples_dir()
    if copy is not None:
        target, count = copy_examples(copy)
        console.print(f"copied {count} example files to {target}", highlight=False)
        return
    paths = example_paths()
    console.print(examples_table(paths, [example_summary(p) for p in paths]))
    policies = sorted(p.name for p in (folder / "policies").glob("*.json"))
    console.print(f"policies in examples/policies/: {', '.join(policies)}", highlight=False)
    console.print(f"shipped in {folder}; copy them here: alignlens examples --copy .")
