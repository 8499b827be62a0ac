"""Shared by the launch files: the coexpress launch description for any graph of emo_bringup.graph."""
import importlib.util
import os


def generate(graph: str):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'coexpress.launch.py')
    spec = importlib.util.spec_from_file_location('coexpress_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description(graph)
