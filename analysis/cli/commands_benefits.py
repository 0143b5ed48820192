"""``calcsim harms-benefits``: the balance sheet of the programme and the frontier of the strategies."""

from __future__ import annotations

import argparse
import json

from analysis.cli.shared import (
    check_counts,
    dask_client_for,
    load_cli_scenario,
    mapper,
    png,
    prepare_out,
    write_outputs,
)

#: The frontiers' flags (columns ``efficient_<flag>``, ``dominance_<flag>``).
FLAGS = ("screens", "false_positives")
#: What ``calcsim harms-benefits --out`` writes.
OUTPUTS = ("harms_benefits.csv", "strategies.csv", "run.json", "balance_sheet.png", "frontier.png", "harm_benefit.png")


def _strategies(option: str | None):
    from analysis.scenario.strategies import load_strategies

    if option is None:
        return []
    return load_strategies(None if option == "default" else option)


def balance_lines(result) -> list[str]:
    """The programme's balance sheet per 1,000 women screened, one line per measure."""
    b = result.balance("programme")
    lines = [f"{'per 1,000 women screened':<44} {'estimate':>10}  95% interval (paired)"]
    for side in ("benefit", "harm"):
        lines.append(f"{side}s")
        for r in b[b["side"] == side].itertuples(index=False):
            lines.append(f"  {r.label:<42} {r.estimate:>10.2f}  [{r.lower:.2f}, {r.upper:.2f}]")
    return lines


def frontier_lines(wide) -> list[str]:
    """One line per strategy: screens, life-years gained, false positives and the frontier verdicts."""
    head = f"{'strategy':<14} {'screens':>8} {'LYG':>7} {'deaths':>7} {'FP':>7} {'overdx':>7}  vs screens / vs FP"
    lines = ["per 1,000 women alive and free of breast cancer at the population age", head]
    for r in wide.itertuples(index=False):
        d = r._asdict()
        verdict = {f: "efficient" if d[f"efficient_{f}"] else f"{d[f'dominance_{f}']} dominated" for f in FLAGS}
        lines.append(
            f"{d['strategy']:<14} {d['screens_per_1000_women']:>8.0f} {d['life_years_gained_per_1000_women']:>7.1f}"
            f" {d['bc_deaths_averted_per_1000_women']:>7.2f} {d['false_positive_recalls_per_1000_women']:>7.0f}"
            f" {d['overdiagnosed_per_1000_women']:>7.2f}  {verdict['screens']} / {verdict['false_positives']}"
        )
    return lines


def cmd_harms_benefits(args: argparse.Namespace) -> int:
    """``calcsim harms-benefits``."""
    from analysis.stats.harms_benefits import harms_benefits

    check_counts(args)
    strategies = _strategies(args.strategies)
    if args.out is not None:
        prepare_out(args.out, OUTPUTS)
    s = load_cli_scenario(args, args.scenario)
    with dask_client_for(args) as client:
        result = harms_benefits(
            s,
            args.women,
            args.seed,
            strategies,
            discount_rate=args.discount,
            replicates=args.replicates,
            posterior=args.posterior,
            map_fn=mapper(client),
        )
    wide = result.wide()
    m = result.meta
    print(
        f"Benefits and harms — {m['scenario']} ({m['calibration']}): {m['women']:,} women, seed {m['seed']};"
        f" lifetime to age {m['horizon_age_years']:g}, life-years discounted at {100 * m['discount_rate']:g}%/y"
        f" to age {m['discount_age_years']:g}"
        + (f"; {m['replicates']} replicates pooled" if m["replicates"] > 1 else "")
    )
    print("\n".join(balance_lines(result)))
    if len(wide) > 1:
        print()
        print("\n".join(frontier_lines(wide)))
    if args.out is not None:
        from analysis.figures.benefits import balance_sheet, efficiency_frontier, harm_benefit

        write_outputs(
            args.out,
            {
                "harms_benefits.csv": result.table.to_csv(index=False),
                "strategies.csv": wide.to_csv(index=False),
                "run.json": json.dumps(m, indent=2) + "\n",
                "balance_sheet.png": png(balance_sheet(result.balance("programme"))),
                "frontier.png": png(
                    efficiency_frontier(wide, cost="screens_per_1000_women", benefit="life_years_gained_per_1000_women")
                ),
                "harm_benefit.png": png(harm_benefit(wide)),
            },
        )
        print(f"written: {', '.join(str(args.out / o) for o in OUTPUTS)}")
    return 0
