"""Reading a loss history: diverging, flat, stuck at chance, plateau, noisy. (to be written)"""


def triage(losses):
    raise NotImplementedError
