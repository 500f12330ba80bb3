"""Mermaid blocks in markdown, checked against the structure of the xychart-beta grammar (no
network, no renderer: GitHub renders the blocks of a job summary)."""

import re

NUMBER = r"-?\d+(?:\.\d+)?"


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)\n```", markdown, re.S)


def check_xychart(block: str) -> list[list[float]]:
    """The xychart-beta grammar's structure: header, title, x-axis labels, y-axis range, then bar
    and line series of numbers only, each as long as the x-axis, inside the y range."""
    lines = [line.strip() for line in block.splitlines()]
    assert lines[0] == "xychart-beta"
    assert re.fullmatch(r'title "[^"]+"', lines[1]), lines[1]
    x_axis = re.fullmatch(r'x-axis(?: "[^"]+")? \[([^\]]+)\]', lines[2])
    assert x_axis, lines[2]
    labels = [label.strip() for label in x_axis.group(1).split(",")]
    y_axis = re.fullmatch(rf'y-axis(?: "[^"]+")? ({NUMBER}) --> ({NUMBER})', lines[3])
    assert y_axis, lines[3]
    low, high = float(y_axis.group(1)), float(y_axis.group(2))
    assert low < high
    series = []
    for line in lines[4:]:
        match = re.fullmatch(r"(?:bar|line) \[([^\]]+)\]", line)
        assert match, line
        values = [value.strip() for value in match.group(1).split(",")]
        assert all(re.fullmatch(NUMBER, value) for value in values), line
        assert len(values) == len(labels), (line, labels)
        assert all(low <= float(value) <= high for value in values)
        series.append([float(value) for value in values])
    assert series, "a chart without a series"
    return series
