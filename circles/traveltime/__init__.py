"""Travel times: the search graph, the engines and kernels, the search plan, hubs."""
