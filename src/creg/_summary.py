"""The layer table of ``print(net)`` and ``net.summary()``, in the manner of
Keras's ``Model.summary()``: one row per layer with its units, activation,
weight shape and parameter count, then the total and its bytes."""


def _kib(nbytes):
    return f"{nbytes / 1024:,.1f} KiB"


def network_summary(net):
    """The table as text (lines joined by newlines, no trailing newline)."""
    n_layers = len(net.sizes) - 1
    rows = [("layer", "units", "activation", "weights", "params"),
            ("input", f"{net.sizes[0]:,}", "", "", "")]
    if net.input_columns is not None:  # compressed: which columns of X
        rows[1] = ("input", f"{net.sizes[0]:,}",
                   f"of {net.input_width:,} (select)", "", "")
    for l, (n_in, n_out) in enumerate(zip(net.sizes, net.sizes[1:])):
        last = l == n_layers - 1
        rows.append(("output" if last else f"hidden {l + 1}", f"{n_out:,}",
                     net.output if last else net.hidden,
                     f"{n_out:,} x {n_in:,}", f"{n_out * n_in + n_out:,}"))
    total = net.params.size
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    # text columns to the left, numbers to the right
    aligns = ("<", ">", "<", ">", ">")
    lines = ["  ".join(f"{cell:{a}{w}}" for cell, a, w
                       in zip(row, aligns, widths)).rstrip()
             for row in rows]
    epochs = net.epochs_trained
    title = (f"Network: cost {net.cost_name}, {net.dtype.name}, "
             f"seed {net.seed}, {epochs} epoch{'' if epochs == 1 else 's'} "
             "trained")
    footer = (f"total: {total:,} parameters "
              f"({_kib(total * net.dtype.itemsize)})")
    return "\n".join([title, *lines, footer])
