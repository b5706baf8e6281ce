# Models, their folders and layers, read once with CombMotif's own config loader.
from combmotif.cli import layer_span
from combmotif.neuronmotif.discovery_config import load_discovery_config


def _layers(value):
    return list(layer_span(str(value))) if not isinstance(value, list) else [int(v) for v in value]


STAGES = ("discovery", "train", "contribution", "interaction", "compare")


def _model_entry(name, entry):
    # stage configs: relative to the repository root (absolute ones stay as they are)
    entry = {k: str(ROOT / v) if k in STAGES else v for k, v in entry.items()}
    cfg = load_discovery_config(entry["discovery"])
    if cfg.model_name != name:
        raise ValueError(f"workflow config: model {name!r}: {entry['discovery']} names model "
                         f"{cfg.model_name!r}; use that name as the key")
    out = dict(entry, layers=_layers(entry.get("layers", "1")), dir=str(cfg.discovery_dir().parent),
               weights=str(cfg.model_file), pages=cfg.report.enabled)
    out["interaction_layers"] = _layers(entry.get("interaction_layers", out["layers"][-1:]))
    return out


MODELS = {name: _model_entry(name, entry) for name, entry in config["models"].items()}
ROOTS = {str(Path(m["dir"]).parent) for m in MODELS.values()}
if len(ROOTS) != 1:
    raise ValueError(f"workflow config: the models write under several results_dir ({sorted(ROOTS)}); use one")
R = ROOTS.pop()          # the results root: <R>/<model>/<stage>/...
SHARD = int(config.get("shard_size", 64))
GPUS = int(config.get("gpus", 1))
THREADS = int(config.get("threads", 1))   # per job
# Log files of the jobs (Snakemake's own; the stages write nothing about wall times).
LOGS = f"{R}/{{model}}/workflow/logs"

wildcard_constraints:
    model="[^/]+",
    layer=r"\d+",
    first=r"\d+",
    last=r"\d+",
    groups=r"\d+",


def cmd(model, stage):
    """The stage config of ``model`` (quoted for the shell)."""
    return shlex.quote(MODELS[model][stage])


def summary(model, layer):
    return f"{R}/{model}/discovery/conv{layer}/summary.csv"


def marker(model, name):
    return f"{R}/{model}/workflow/{name}.done"


def final_target(model):
    m = MODELS[model]
    return marker(model, "report") if m["pages"] else [summary(model, L) for L in m["layers"]]
