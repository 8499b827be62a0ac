"""docs/graph.* and docs/tf_tree.* are what the code makes now (python -m emo_bringup.diagrams --out docs):
the edges read from the running graph and from the URDF, and the images drawn from them."""
import json
import pathlib

import emo_common.testing  # noqa: F401  (DDS on loopback, a domain of this run's own)
from emo_bringup.diagrams import draw_graph, draw_tf, graph_edges, tf_edges

DOCS = pathlib.Path(__file__).resolve().parents[1] / 'docs'
REGENERATE = 'stale: regenerate with python -m emo_bringup.diagrams --out docs'


def test_the_tf_tree_diagram_is_the_urdfs(tmp_path):
    edges = tf_edges()
    assert edges == json.loads((DOCS / 'tf_tree.json').read_text()), REGENERATE
    draw_tf(edges, tmp_path / 'tf.png')
    assert (tmp_path / 'tf.png').read_bytes() == (DOCS / 'tf_tree.png').read_bytes(), REGENERATE
    assert ['head_link', 'eye_yaw_l (revolute)', 'eye_l_yaw_link'] in edges


def test_the_graph_diagram_is_the_running_graphs(tmp_path):
    edges = graph_edges(str(tmp_path))
    assert edges == json.loads((DOCS / 'graph.json').read_text()), REGENERATE
    draw_graph(edges, tmp_path / 'graph.png')
    assert (tmp_path / 'graph.png').read_bytes() == (DOCS / 'graph.png').read_bytes(), REGENERATE
    assert ['predictor_node', '/emo/face/anticipated', 'inverse_node'] in edges
