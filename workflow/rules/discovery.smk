# Discovery: plan -> per layer: shards (in parallel) -> decide (the layer's pattern-groups test, once;
# undecided: the shards again at P + 1) -> merge -> the next layer.


def _span(layers):
    return f"{min(layers)}-{max(layers)}"


def _plan(model):
    """Each layer's neurons, from the plan (a checkpoint: the model may be trained by this run)."""
    return json.loads(Path(checkpoints.discovery_plan.get(model=model).output[0]).read_text())


def _chunks(model, layer):
    neurons = sorted(_plan(model)["neurons"][str(layer)])
    return [neurons[i:i + SHARD] for i in range(0, len(neurons), SHARD)]


def decision_file(model, layer, groups):
    return f"{R}/{model}/workflow/conv{layer}_decide_P{groups}.json"


def shard_records(wc):
    """The layer's shard records at P (the decision's inputs)."""
    return [f"{R}/{wc.model}/discovery/conv{wc.layer}/.shards/{c[0]}-{c[-1]}.P{wc.groups}.json"
            for c in _chunks(wc.model, wc.layer)]


def shard_neurons(wc):
    """The shard's neurons as a --neurons list."""
    first, last = int(wc.first), int(wc.last)
    return ",".join(str(k) for k in sorted(_plan(wc.model)["neurons"][wc.layer]) if first <= k <= last)


def shard_after(wc):
    """A first shard waits for the merged layer below (its PPMs seed the GA), a later P for the
    decision at P - 1 that asked for it."""
    tried = _plan(wc.model)["groups"][wc.layer]
    if int(wc.groups) > tried[0]:
        return [decision_file(wc.model, wc.layer, int(wc.groups) - 1)]
    below = int(wc.layer) - 1
    return [summary(wc.model, below)] if below in MODELS[wc.model]["layers"] else []


def decided(wc):
    """The decision that settled the layer: P raised, one round of shards after another, until
    the layer's test passes (a checkpoint per P, so a later P's shards run only when needed)."""
    for groups in _plan(wc.model)["groups"][wc.layer]:
        path = checkpoints.discovery_decide.get(model=wc.model, layer=wc.layer, groups=groups).output[0]
        if json.loads(Path(path).read_text())["decided"]:
            return path
    raise ValueError(f"{path}: conv{wc.layer} undecided after its last pattern groups")


# Seconds of bookkeeping each: on a cluster they run where snakemake runs, not as jobs in the queue.
localrules:
    discovery_plan,
    discovery_decide,
    discovery_merge,


checkpoint discovery_plan:
    input:
        lambda wc: MODELS[wc.model]["weights"],
    output:
        f"{R}/{{model}}/workflow/plan.json",
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
        layers=lambda wc: _span(MODELS[wc.model]["layers"]),
    log:
        f"{LOGS}/plan.log",
    shell:
        "combmotif discovery {params.cfg} --layers {params.layers} --step plan > {output} 2> {log}"


rule discovery_shard:
    """Sample (or reuse the kept samples), demix with P pattern groups and stage one shard of a layer."""
    input:
        plan=f"{R}/{{model}}/workflow/plan.json",
        after=shard_after,
    output:
        temp(f"{R}/{{model}}/discovery/conv{{layer}}/.shards/{{first}}-{{last}}.P{{groups}}.json"),
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
        neurons=shard_neurons,
    log:
        f"{LOGS}/discovery_conv{{layer}}_{{first}}-{{last}}_P{{groups}}.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif discovery {params.cfg} --layers {wildcards.layer} --neurons {params.neurons} "
        "--step shard --groups {wildcards.groups} 2> {log}"


checkpoint discovery_decide:
    """The layer's pattern-groups test at P over all its shards, once (written into conv<L>/.shards/)."""
    input:
        shard_records,
    output:
        decision_file("{model}", "{layer}", "{groups}"),
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
    log:
        f"{LOGS}/discovery_conv{{layer}}_decide_P{{groups}}.log",
    threads: THREADS
    shell:
        "combmotif discovery {params.cfg} --layers {wildcards.layer} --step decide --groups {wildcards.groups} "
        "> {output} 2> {log}"


rule discovery_merge:
    """The decided neurons published: conv<L>/neuron<k>/, layer.json, summary.csv."""
    input:
        decided,
    output:
        f"{R}/{{model}}/discovery/conv{{layer}}/summary.csv",
        f"{R}/{{model}}/discovery/conv{{layer}}/layer.json",
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
    log:
        f"{LOGS}/discovery_conv{{layer}}_merge.log",
    threads: THREADS
    shell:
        "combmotif discovery {params.cfg} --layers {wildcards.layer} --step merge 2> {log}"


def pages_inputs(wc):
    m = MODELS[wc.model]
    out = [summary(wc.model, L) for L in m["layers"]]
    if "contribution" in m:   # the pages show each neuron's contribution
        out += [contribution_csv(wc.model, L) for L in m["layers"]]
    return out


rule discovery_pages:
    """Matching, syntax and pages: the same command as main.sh, every neuron already fresh."""
    input:
        pages_inputs,
    output:
        touch(marker("{model}", "pages")),
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
        layers=lambda wc: _span(MODELS[wc.model]["layers"]),
    log:
        f"{LOGS}/discovery_pages.log",
    threads: THREADS
    shell:
        "combmotif discovery {params.cfg} --layers {params.layers} > {log} 2>&1"
