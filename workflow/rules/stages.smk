# The stages after discovery; each rule is its shell wrapper's command.


def contribution_csv(model, layer):
    return f"{R}/{model}/contribution/conv{layer}/neuron_contribution.csv"


def interaction_file(model, layer, name):
    return f"{R}/{model}/interaction/conv{layer}/{name}"


if any("train" in m for m in MODELS.values()):

    rule train:
        """The checkpoint (mrl/run_training.sh), when the model entry names a training config."""
        output:
            "{weights}",
        params:
            cfg=lambda wc: next(shlex.quote(m["train"]) for m in MODELS.values()
                                if m["weights"] == wc.weights),
        log:
            "{weights}.train.log",
        wildcard_constraints:
            weights="|".join(re.escape(m["weights"]) for m in MODELS.values() if "train" in m),
        resources:
            gpu=GPUS,
        shell:
            "combmotif train {params.cfg} > {log} 2>&1"


rule contribution:
    """One layer's contribution (motif_contribution/run_contribution.sh L L)."""
    input:
        lambda wc: MODELS[wc.model]["weights"],
    output:
        contribution_csv("{model}", "{layer}"),
    params:
        cfg=lambda wc: cmd(wc.model, "contribution"),
    log:
        f"{LOGS}/contribution_conv{{layer}}.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif contribution {params.cfg} --layers {wildcards.layer} > {log} 2>&1"


rule fragments:
    """One layer's fragments (motif_interaction/run_fragment_location.sh L)."""
    input:
        marker("{model}", "pages"),
    output:
        interaction_file("{model}", "{layer}", "fragments.npz"),
    params:
        cfg=lambda wc: cmd(wc.model, "interaction"),
    log:
        f"{LOGS}/fragments_conv{{layer}}.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif fragments {params.cfg} --layers {wildcards.layer} > {log} 2>&1"


rule pairs:
    """Each neuron's pairs of one layer (motif_interaction/run_pairs.sh L)."""
    input:
        interaction_file("{model}", "{layer}", "fragments.npz"),
    output:
        interaction_file("{model}", "{layer}", "motif_pair_stats.csv"),
    params:
        cfg=lambda wc: cmd(wc.model, "interaction"),
    log:
        f"{LOGS}/pairs_conv{{layer}}.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif pairs {params.cfg} --layers {wildcards.layer} > {log} 2>&1"


rule pairs_sequence:
    """The layer's candidate family pairs over whole sequences (run_pairs.sh ... --scope sequence)."""
    input:
        interaction_file("{model}", "{layer}", "motif_pair_stats.csv"),
    output:
        interaction_file("{model}", "{layer}", "candidates.csv"),
    params:
        cfg=lambda wc: cmd(wc.model, "interaction"),
    log:
        f"{LOGS}/pairs_sequence_conv{{layer}}.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif pairs {params.cfg} --layers {wildcards.layer} --scope sequence > {log} 2>&1"


rule compare:
    """NeuronMotif against the baselines (motif_discovery/compare.sh)."""
    input:
        marker("{model}", "pages"),
    output:
        f"{R}/{{model}}/compare/index.html",
    params:
        cfg=lambda wc: cmd(wc.model, "compare"),
    log:
        f"{LOGS}/compare.log",
    threads: THREADS
    resources:
        gpu=GPUS,
    shell:
        "combmotif compare {params.cfg} > {log} 2>&1"


def report_inputs(wc):
    m = MODELS[wc.model]
    out = [marker(wc.model, "pages")]
    if "interaction" in m:
        out += [interaction_file(wc.model, L, "candidates.csv") for L in m["interaction_layers"]]
    if "compare" in m:
        out.append(f"{R}/{wc.model}/compare/index.html")
    return out


rule report:
    """Every page again from all stages' outputs (motif_discovery/report.sh)."""
    input:
        report_inputs,
    output:
        touch(marker("{model}", "report")),
    params:
        cfg=lambda wc: cmd(wc.model, "discovery"),
    log:
        f"{LOGS}/report.log",
    threads: THREADS
    shell:
        "combmotif report {params.cfg} > {log} 2>&1"
