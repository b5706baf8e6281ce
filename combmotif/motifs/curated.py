"""A curated table of well-known mRNA regulatory elements, written by us from the literature.

Each entry is an IUPAC consensus in DNA letters (U written as T, like every
motif in this package), a one-line description and the citation it comes from.
The PPM of an entry is uniform over the bases each IUPAC code allows, so
``N`` columns carry no information. miRNA entries are 7mer-m8 target sites:
the reverse complement of nucleotides 2-8 of the mature miRNA (Bartel 2009),
derived here from the mature sequence so the site and the miRNA cannot drift
apart.

This is the default database for mRNA models; merge it with a real RBP
database (``curated+/path/ATtRACT.tf``) or with the planted motifs of a
synthetic set (``planted+curated``), since Tomtom p-values need many targets.
"""

from __future__ import annotations

from ..sequences import reverse_complement
from .formats import Motif, iupac_to_ppm

#: (name, IUPAC consensus, description, citation)
ELEMENTS: list[tuple[str, str, str, str]] = [
    # --- start codons and their context (5'UTR: uAUGs lower ribosome load)
    ("uAUG", "ATG", "upstream AUG start codon; uAUGs/uORFs in the 5'UTR repress translation",
     "Calvo SE, Pagliarini DJ, Mootha VK (2009) PNAS 106:7507-7512"),
    ("Kozak", "GCCRCCATGG", "optimal start-codon context GCCRCCAUGG",
     "Kozak M (1987) Nucleic Acids Res 15:8125-8148"),
    ("Kozak_minimal", "RNNATGG", "essential Kozak positions: purine at -3 and G at +4",
     "Kozak M (1986) Cell 44:283-292"),
    ("TISU", "SAASATGGCGGC", "translation initiator of short 5'UTR",
     "Elfakess R, Dikstein R (2008) PLoS One 3:e3094"),
    # --- stop codons (uORF ends, in-frame stops)
    ("stop_UAA", "TAA", "ochre stop codon",
     "Brenner S, Stretton AOW, Kaplan S (1965) Nature 206:994-998"),
    ("stop_UAG", "TAG", "amber stop codon",
     "Brenner S, Stretton AOW, Kaplan S (1965) Nature 206:994-998"),
    ("stop_UGA", "TGA", "opal stop codon",
     "Brenner S, Barnett L, Katz ER, Crick FHC (1967) Nature 213:449-450"),
    # --- decay and stability elements (3'UTR)
    ("ARE_AUUUA", "ATTTA", "AU-rich element pentamer",
     "Shaw G, Kamen R (1986) Cell 46:659-667"),
    ("ARE_UUAUUUAWW", "TTATTTAWW", "AU-rich element functional core UUAUUUA(U/A)(U/A)",
     "Lagnado CA, Brown CY, Goodall GJ (1994) Mol Cell Biol 14:7984-7995"),
    ("ARE_WWAUUUAWW", "WWATTTAWW", "AU-rich element nonamer, A/U-flanked AUUUA "
     "(relaxed form of the Lagnado/Zubiaga cores)",
     "Chen CY, Shyu AB (1995) Trends Biochem Sci 20:465-470"),
    ("ARE_UUAUUUAUU", "TTATTTATT", "AU-rich nonamer that mediates mRNA degradation",
     "Zubiaga AM, Belasco JG, Greenberg ME (1995) Mol Cell Biol 15:2219-2230"),
    ("ARE_AUUUAUUUA", "ATTTATTTA", "overlapping AUUUA pentamers (class II ARE)",
     "Chen CY, Shyu AB (1995) Trends Biochem Sci 20:465-470"),
    ("HuR_U-rich", "TTTWTTT", "HuR/ELAVL1 U-rich and AU-rich binding sites (PAR-CLIP)",
     "Lebedeva S et al. (2011) Mol Cell 43:340-352"),
    ("PRE_Pumilio", "TGTAHATA", "Pumilio response element UGUAHAUA",
     "Gerber AP et al. (2006) PNAS 103:4487-4492"),
    ("GRE", "TGTTTGTTTGT", "GU-rich element bound by CELF1/CUGBP1, mediates decay",
     "Vlasova IA et al. (2008) Mol Cell 29:263-270"),
    ("CPE_UUUUAU", "TTTTAT", "cytoplasmic polyadenylation element (consensus form)",
     "Pique M et al. (2008) Cell 132:434-448"),
    ("CPE_UUUUAAU", "TTTTAAT", "cytoplasmic polyadenylation element (variant form)",
     "Pique M et al. (2008) Cell 132:434-448"),
    ("PAS_AAUAAA", "AATAAA", "canonical polyadenylation signal",
     "Proudfoot NJ, Brownlee GG (1976) Nature 263:211-214"),
    ("PAS_AUUAAA", "ATTAAA", "most frequent variant polyadenylation signal",
     "Beaudoing E et al. (2000) Genome Res 10:1001-1010"),
    ("m6A_DRACH", "DRACH", "m6A methylation consensus (affects decay and translation)",
     "Dominissini D et al. (2012) Nature 485:201-206"),
    # --- translation control in the 5'UTR
    ("TOP", "CYYTTYY", "5' terminal oligopyrimidine tract: C then uninterrupted pyrimidines",
     "Levy S et al. (1991) PNAS 88:3319-3323"),
    ("G4_like", "GGGNGGGNGGG", "G-tracts of an RNA G-quadruplex (three of the four tracts)",
     "Kumari S et al. (2007) Nat Chem Biol 3:218-221"),
    ("IRE_loop", "CAGTGN", "iron-responsive element hairpin loop CAGUGN",
     "Hentze MW et al. (1987) Science 238:1570-1573"),
    # --- RNA-binding protein sites
    ("PTB_CUCUCU", "CTCTCT", "polypyrimidine-tract-binding protein (PTBP1) site",
     "Perez I et al. (1997) RNA 3:764-778"),
    ("SRSF1_GAAGAA", "GAAGAA", "SRSF1 (ASF/SF2) purine-rich binding site",
     "Tacke R, Manley JL (1995) EMBO J 14:3540-3551"),
    ("RBFOX_UGCAUG", "TGCATG", "RBFOX1/Fox-1 binding site",
     "Jin Y et al. (2003) EMBO J 22:905-912"),
    ("QKI_ACUAAY", "ACTAAY", "Quaking response element core",
     "Galarneau A, Richard S (2005) Nat Struct Mol Biol 12:691-698"),
    ("MBNL_YGCY", "YGCYYGCY", "MBNL1 YGCY repeats",
     "Goers ES et al. (2010) Nucleic Acids Res 38:2467-2484"),
    ("NOVA_YCAY", "YCAYYCAY", "NOVA YCAY clusters",
     "Jensen KB et al. (2000) PNAS 97:5740-5745"),
    ("hnRNPA1_UAGGGW", "TAGGGW", "hnRNP A1 high-affinity site UAGGGA/U",
     "Burd CG, Dreyfuss G (1994) EMBO J 13:1197-1204"),
]

#: (miRNA, mature sequence from miRBase) -> 7mer-m8 site. Site rules: Bartel 2009.
MIRNAS: list[tuple[str, str]] = [
    ("let-7", "UGAGGUAGUAGGUUGUAUAGUU"),      # hsa-let-7a-5p
    ("miR-1", "UGGAAUGUAAAGAAGUAUGUAU"),      # hsa-miR-1-3p
    ("miR-122", "UGGAGUGUGACAAUGGUGUUUG"),    # hsa-miR-122-5p
    ("miR-155", "UUAAUGCUAAUCGUGAUAGGGGUU"),  # hsa-miR-155-5p
    ("miR-21", "UAGCUUAUCAGACUGAUGUUGA"),     # hsa-miR-21-5p
    ("miR-16", "UAGCAGCACGUAAAUAUUGGCG"),     # hsa-miR-16-5p (miR-15/16 family)
    ("miR-124", "UAAGGCACGCGGUGAAUGCC"),      # hsa-miR-124-3p
    ("miR-17", "CAAAGUGCUUACAGUGCAGGUAG"),    # hsa-miR-17-5p (miR-17/20/106 family)
    ("miR-34a", "UGGCAGUGUCUUAGCUGGUUGU"),    # hsa-miR-34a-5p
    ("miR-200bc", "UAAUACUGCCGGGUAAUGAUGGA"), # hsa-miR-200c-3p (seed shared with 200b)
]

MIRNA_CITATION = ("Bartel DP (2009) Cell 136:215-233 (7mer-m8 site); "
                  "Kozomara A et al. (2019) Nucleic Acids Res 47:D155-D162 (miRBase)")


def mirna_site(mature: str) -> str:
    """7mer-m8 target site of a mature miRNA: reverse complement of its nucleotides 2-8.

    Derived from the mature sequence so the site and the miRNA cannot drift apart.

    Parameters
    ----------
    mature : str
        The mature miRNA 5' -> 3' (RNA or DNA letters, any case).

    Returns
    -------
    str
        The 7-nt site in upper-case DNA letters (U written as T), 5' -> 3' on the mRNA.
    """
    return reverse_complement(mature.upper().replace("U", "T")[1:8])


def curated_motifs() -> list[Motif]:
    """The curated table as :class:`Motif` records (source ``curated``).

    Returns
    -------
    list of Motif
        The :data:`ELEMENTS` in table order, then one ``<miRNA>_site`` per
        :data:`MIRNAS` entry; each PPM is uniform over the bases its IUPAC code
        allows, and ``meta`` holds ``consensus`` (IUPAC, DNA letters),
        ``description`` and ``citation``.
    """
    out = []
    for name, iupac, desc, cite in ELEMENTS:
        out.append(Motif(name, iupac_to_ppm(iupac), source="curated",
                         meta={"consensus": iupac, "description": desc, "citation": cite}))
    for mirna, mature in MIRNAS:
        site = mirna_site(mature)
        out.append(Motif(f"{mirna}_site", iupac_to_ppm(site), source="curated",
                         meta={"consensus": site,
                               "description": f"{mirna} 7mer-m8 site (seed match of {mature})",
                               "citation": MIRNA_CITATION}))
    return out
