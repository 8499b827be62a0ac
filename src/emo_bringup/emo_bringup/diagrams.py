"""The graph and the TF tree as images, generated from what runs, not drawn by hand.

    python -m emo_bringup.diagrams --out docs/

The node graph is read from a running coexpress graph (the launch-free runner,
demo camera, simulated head): every node's publishers and subscriptions as the
ROS graph reports them, so the picture is what the code does. The TF tree is
read from the head's URDF (emo_description). Each is written as JSON (the
edges, sorted: what a test compares) and PNG (drawn from that JSON with
matplotlib, deterministically). tests/test_diagrams.py regenerates both and
fails if docs/ is stale.
"""
import argparse
import json
import pathlib
import time

# Topics every node has (logging, parameters, diagnostics): left out of the picture.
COMMON_TOPICS = {'/rosout', '/parameter_events', '/diagnostics'}
PROBE = 'diagram_probe'


def graph_edges(log_dir: str, settle_s: float = 4.0, timeout_s: float = 90.0) -> list:
    """[publisher node, topic, subscriber node] of the running coexpress graph, sorted."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from emo_bringup.runner import RunningGraph
    graph = RunningGraph('coexpress', {'camera': 'demo', 'loop': 'true', 'plant': 'ideal'}, log_dir)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(PROBE, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        graph.start()
        names = set(graph.procs)
        deadline, previous, stable_since = time.monotonic() + timeout_s, None, time.monotonic()
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            seen = {n for n, _ in node.get_node_names_and_namespaces()} & names
            edges = _edges(node, seen) if seen == names else None
            if edges != previous:
                previous, stable_since = edges, time.monotonic()
            elif edges and time.monotonic() - stable_since > settle_s:
                return sorted(edges + _serial_edges(graph))
        raise RuntimeError(f'the graph did not come up and settle within {timeout_s} s')
    finally:
        graph.stop()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)


# The link that is no topic: the driver opens the simulated chain's serial port (bus:=sim).
SERIAL = 'serial port (Dynamixel Protocol 2.0)'


def _serial_edges(graph) -> list:
    names = {spec.name for spec in graph.specs}
    return [['driver_node', SERIAL, 'simulated_bus']] if {'driver_node', 'simulated_bus'} <= names else []


def _edges(node, names) -> list:
    pubs, subs = {}, {}
    for name in names:
        for topic, _ in node.get_publisher_names_and_types_by_node(name, '/'):
            pubs.setdefault(topic, set()).add(name)
        for topic, _ in node.get_subscriber_names_and_types_by_node(name, '/'):
            subs.setdefault(topic, set()).add(name)
    out = []
    for topic in sorted(set(pubs) - COMMON_TOPICS):
        if '/_action/' in topic or topic.endswith(('/transition_event',)):
            continue
        for p in sorted(pubs[topic]):
            for s in sorted(subs.get(topic, ())):
                out.append([p, topic, s])
    return out


def tf_edges(head_config: str = '') -> list:
    """[parent link, joint (type), child link] of the head's URDF, sorted."""
    from emo_description.head import load_head
    from emo_description.kinematics import UrdfTree, head_urdf
    tree = UrdfTree(head_urdf(load_head(head_config or None)))
    return sorted([parent, f'{name} ({kind})', child] for child, (name, kind, parent, _, _) in tree.parent.items())


def _figure(width: float, height: float):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_axis_off()
    return plt, fig, ax


def draw_graph(edges: list, path) -> None:
    """Nodes left to right in the order data first reaches them; a topic between neighbours is a straight
    arrow, one that skips nodes an arc above (forward) or below (back), each labelled."""
    nodes = []
    for p, _, s in edges:
        for n in (p, s):
            if n not in nodes:
                nodes.append(n)
    order = _flow_order(nodes, edges)
    x = {n: 2.2 * i for i, n in enumerate(order)}
    plt, fig, ax = _figure(2.0 * len(order) + 1, 3.0)
    for n in order:
        ax.text(x[n], 0, n, ha='center', va='center', fontsize=9,
                bbox=dict(boxstyle='round,pad=0.4', fc='#dde8f5', ec='#335'))
    for p, topic, s in edges:
        span = round((x[s] - x[p]) / 2.2)
        if span == 1:
            ax.annotate('', xy=(x[s] - 0.75, 0), xytext=(x[p] + 0.75, 0),
                        arrowprops=dict(arrowstyle='->', color='#555'))
            ax.text((x[p] + x[s]) / 2, -0.12, topic, fontsize=6.5, ha='center', va='top', color='#333',
                    rotation=0, wrap=True)
            continue
        up = 1 if span > 0 else -1
        ax.annotate('', xy=(x[s], 0.2 * up), xytext=(x[p], 0.2 * up),
                    arrowprops=dict(arrowstyle='->', color='#777', connectionstyle=f'arc3,rad={-0.35 * up}'))
        ax.text((x[p] + x[s]) / 2, up * (0.2 + 0.175 * abs(x[s] - x[p])), topic, fontsize=6.5, ha='center',
                va='bottom' if up > 0 else 'top', color='#333')
    ax.set_xlim(-1.2, max(x.values()) + 1.2)
    ax.set_ylim(-0.9, 1.6)
    ax.set_title('coexpress graph (generated: python -m emo_bringup.diagrams)', fontsize=10)
    fig.savefig(path, dpi=90, metadata={'Software': None})
    plt.close(fig)


def _flow_order(nodes: list, edges: list) -> list:
    """Nodes by their longest path from a source (a node nothing publishes to), ties by name: the
    pipeline's order. A cycle is cut where it closes (at most len(nodes) rounds of relaxation)."""
    depth = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for p, _, s in edges:
            if p != s and depth[s] < depth[p] + 1 <= len(nodes):
                depth[s], changed = depth[p] + 1, True
        if not changed:
            break
    return sorted(nodes, key=lambda n: (depth[n], n))


def draw_tf(edges: list, path) -> None:
    """The tree left to right: depth along x, leaves down y."""
    children = {}
    for parent, joint, child in edges:
        children.setdefault(parent, []).append((joint, child))
    roots = sorted({p for p, _, _ in edges} - {c for _, _, c in edges})
    pos, row = {}, [0]

    def place(link, depth):
        kids = sorted(children.get(link, []), key=lambda jc: jc[1])
        for _, child in kids:
            place(child, depth + 1)
        if kids:
            pos[link] = (depth, sum(pos[c][1] for _, c in kids) / len(kids))
        else:
            pos[link] = (depth, -row[0])
            row[0] += 1
    for r in roots:
        place(r, 0)
    plt, fig, ax = _figure(14, 0.55 * row[0] + 1.5)
    for parent, joint, child in edges:
        (x0, y0), (x1, y1) = pos[parent], pos[child]
        ax.annotate('', xy=(x1 - 0.35, y1), xytext=(x0 + 0.35, y0), arrowprops=dict(arrowstyle='->', color='#555'))
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.15, joint, fontsize=6, ha='center', color='#555')
    for link, (x, y) in pos.items():
        ax.text(x, y, link, ha='center', va='center', fontsize=7,
                bbox=dict(boxstyle='round,pad=0.3', fc='#e8f5dd', ec='#353'))
    ax.set_xlim(-0.6, max(x for x, _ in pos.values()) + 0.6)
    ax.set_ylim(-row[0] + 0.3, 0.8)
    ax.set_title('TF tree of the Emo head (generated from its URDF)', fontsize=10)
    fig.savefig(path, dpi=90, metadata={'Software': None})
    plt.close(fig)


def write(out: pathlib.Path, name: str, edges: list, draw) -> None:
    (out / f'{name}.json').write_text(json.dumps(edges, indent=1) + '\n')
    draw(edges, out / f'{name}.png')


def main(argv=None) -> int:
    import tempfile
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out, 'tf_tree', tf_edges(), draw_tf)
    with tempfile.TemporaryDirectory() as logs:
        write(args.out, 'graph', graph_edges(logs), draw_graph)
    print(f'wrote {args.out}/graph.json, graph.png, tf_tree.json, tf_tree.png')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
