"""The ``calcsim`` commands about the model's parameters: ``calibrate``, ``fit``, ``sensitivity`` and
``validate``.

Each ``cmd_*`` takes the parsed arguments and returns the exit code; bad input raises
:class:`~analysis.errors.CalcsimInputError` (``main()`` turns it into one line and exit code 2).
"""

from __future__ import annotations

import argparse
import sys

from analysis.cli.shared import (
    check_counts,
    dask_client_for,
    load_cli_scenario,
    mapper,
    png,
    prepare_out,
    progress_mode,
    write_outputs,
)
from analysis.errors import CalcsimInputError


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``calcsim calibrate``."""
    from analysis.calibration.abc import calibrate
    from analysis.calibration.identifiability import identifiability
    from analysis.calibration.summary import calibration_lines, identifiability_lines, not_reached_warning

    if args.draws < 2:
        raise CalcsimInputError(f"--draws: {args.draws}: a whole number >= 2")
    if args.population < 2:
        raise CalcsimInputError(f"--population: {args.population}: a whole number >= 2")
    if not 0.0 < args.alpha < 1.0:
        raise CalcsimInputError(f"--alpha: {args.alpha}: a quantile strictly between 0 and 1")
    check_counts(args)
    from analysis.scenario import load_scenario

    load_scenario(args.scenario, calibration="parents")  # a bad scenario is reported before --out is created
    prepare_out(args.out)  # a folder that cannot be written is refused before the draws, not after
    with dask_client_for(args) as client:
        df = calibrate(
            args.scenario,
            draws=args.draws,
            women=args.women,
            seed=args.seed,
            out_dir=args.out,
            method=args.method,
            population=args.population,
            alpha=args.alpha,
            map_fn=mapper(client),
            progress=sys.stderr.isatty(),
            restart=args.restart,
            params=args.params,
            rounds=args.rounds,
        )
    out = args.out / f"{df.attrs['scenario']}.csv"
    print("\n".join(calibration_lines(df)))
    print("\n".join(identifiability_lines(identifiability(out))))
    warning = not_reached_warning(df.attrs)
    if warning:
        print(warning)
        print(f"calcsim: {warning}", file=sys.stderr)
    print(f"written: {out}\nuse it: calcsim run --scenario {args.scenario} --calibration {out}")
    return 0


#: What ``calcsim fit --out`` writes.
FIT_OUTPUTS = ("calibration_fit.csv", "identifiability.csv", "calibration_fit.png")


def cmd_fit(args: argparse.Namespace) -> int:
    """``calcsim fit``: the calibration-fit table (and figure), and the parameters' identifiability."""
    from analysis.calibration.fit import fit_lines, fit_table
    from analysis.calibration.identifiability import identifiability
    from analysis.calibration.posterior import run_posterior
    from analysis.calibration.summary import identifiability_lines, not_reached_warning
    from analysis.calibration.targets_fit import scenario_targets, target_groupings
    from analysis.scenario import read_calibration

    check_counts(args)
    if args.out is not None:
        prepare_out(args.out, FIT_OUTPUTS)
    s = load_cli_scenario(args, args.scenario)
    by = target_groupings(scenario_targets(s, checks=True))
    with dask_client_for(args) as client:
        post = run_posterior(s, args.women, args.seed, by=by, map_fn=mapper(client))
    fit = fit_table(post, s)
    applied = s.calibration[-1]
    cal = read_calibration(applied.path, label=applied.file)
    ident = identifiability(cal)
    if args.out is not None:
        from analysis.figures import calibration_fit as fit_figure

        write_outputs(
            args.out,
            {
                "calibration_fit.csv": fit.to_csv(index=False),
                "identifiability.csv": ident.to_csv(index=False),
                "calibration_fit.png": png(fit_figure(fit)),
            },
        )
    print(
        f"Calibration fit — {fit.attrs['scenario']}: {fit.attrs['parameter_sets']} accepted parameter sets of"
        f" {applied.label}; {args.women:,} women, seed {args.seed}"
    )
    print(f"tolerance reached: {cal.meta.get('tolerance_reached', 'not recorded (older calibration file)')}")
    print("\n".join(fit_lines(fit)))
    print()
    print("\n".join(identifiability_lines(ident)))
    warning = not_reached_warning(cal.meta)
    if warning:
        print(warning)
    return 0


def sensitivity_results(args: argparse.Namespace, scenario) -> dict:
    """``{"one_way": ..., "sobol": ...}`` for the methods ``--method`` asks for."""
    from analysis.calibration.abc import calibrated_parameters
    from analysis.calibration.sensitivity import one_way, sobol

    results = {}
    with dask_client_for(args) as client:
        if args.method in ("one-way", "both"):
            results["one_way"] = one_way(scenario, args.women, args.seed, params=args.params, map_fn=mapper(client))
        if args.method in ("sobol", "both"):
            keys = args.params or [k for k, _, _ in calibrated_parameters(scenario)]
            results["sobol"] = sobol(
                scenario, args.women, args.seed, samples=args.samples, params=keys, map_fn=mapper(client)
            )
    return results


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``calcsim sensitivity``."""
    import pandas as pd

    from analysis.calibration.sensitivity import OUTPUTS

    scenario = load_cli_scenario(args, args.scenario)
    check_counts(args)
    if args.out is not None:
        prepare_out(args.out, ["one_way.csv", "sobol.csv", *(f"tornado_{out}.png" for out in OUTPUTS)])
    results = sensitivity_results(args, scenario)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        if "one_way" in results:
            ow = results["one_way"]
            print(f"One-way sensitivity ({scenario.name}, {args.women:,} women per run, seed {args.seed}):")
            for out in OUTPUTS:
                print(
                    ow[ow["output"] == out]
                    .head(8)[["output", "parameter", "low_value", "high_value", "at_low", "at_high", "swing"]]
                    .to_string(index=False)
                )
        if "sobol" in results:
            so = results["sobol"]
            print(f"\nSobol indices ({so.attrs['runs']} runs; conf = 95% bootstrap half-width):")
            print(so.to_string(index=False))
    if args.out is not None:
        from analysis.figures import tornado

        files = {f"{name}.csv": df.to_csv(index=False) for name, df in results.items()}
        for out in OUTPUTS if "one_way" in results else ():
            files[f"tornado_{out}.png"] = png(tornado(results["one_way"], out))
        write_outputs(args.out, files)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``calcsim validate``: the model beside the BCSC performance data by age and density."""
    import pandas as pd

    from analysis.calibration.validation import bcsc_validation
    from analysis.model.simulation import simulate

    check_counts(args)
    s = load_cli_scenario(args, args.scenario)
    if args.out is not None:
        prepare_out(args.out, ["validation_bcsc.csv"])
    by = ["round", "age_group", "density"]
    with dask_client_for(args) as client:
        if client is None:
            results = simulate(s, women=args.women, seed=args.seed, by=by, progress=progress_mode(args))
        else:
            from analysis.scaleout import simulate_distributed

            results = simulate_distributed(client, s, args.women, args.seed, by=by, progress=progress_mode(args))
    v = bcsc_validation(results)
    if args.out is not None:
        write_outputs(args.out, {"validation_bcsc.csv": v.to_csv(index=False)})
    print(
        f"Validation ({s.name}, {args.women:,} women, seed {args.seed}): {v.attrs['comparison']}"
        f" ({v.attrs['note']}). Wilson 95% intervals."
    )
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(
            v[
                [
                    "age_group",
                    "density",
                    "measure",
                    "observed",
                    "observed_lower",
                    "observed_upper",
                    "model",
                    "model_lower",
                    "model_upper",
                    "ratio",
                ]
            ].to_string(index=False, float_format=lambda x: f"{x:.4g}")
        )
    return 0
