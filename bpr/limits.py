"""Size limits on every input (docs/formats.md §4): far above any real deployment, low enough that no
input makes a run take hours or exhaust memory before it says what is wrong. A value above a limit is bad
input whose message names the limit."""

MAX_FILE_BYTES = 64 * 2**20      # an instance or solution file (bellcanada is about 60 KB)
MAX_SERVERS = 1000
MAX_CLIENTS = 1000
MAX_BLOCKS = 1000                # L (BLOOM-176B has 70, Llama-2-70B 80)
MAX_R = 100_000                  # concurrent requests of the offline problem
MAX_REQUESTS = 100_000           # simulated arrivals per run
MAX_TOKENS = 1_000_000           # l_in, l_out
MAX_SECONDS = 1e6                # any time: t, t_in, rtt_ss, tau, tau_in, initial_delay
MAX_GB = 1e6                     # M, s_m, s_c
MAX_RATE = 1e9                   # arrival rate per second, requests per second of a server
MAX_DMODEL = 1_000_000        # d_model, kv_groups
MAX_SEED = 2**63 - 1             # numpy seeds are non-negative
