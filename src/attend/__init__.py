"""attend: replication of Aitken et al. (2021), "Understanding How Encoder-Decoder
Architectures Attend".

Data flows one way: tasks -> models/training -> probe -> analysis -> tables -> plotting.
Nothing in this package knows about Snakemake; the workflow's scripts call into it.
"""

__version__ = "0.1.0"
