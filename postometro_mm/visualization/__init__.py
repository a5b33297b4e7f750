from .mesh_visualizer import MeshVisualizer, load_faces
from .renderer import (MeshRender, Rasterization, overlay_render, project_points, rasterize,
                       render_mesh, rotate_about_y, vertex_normals,
                       weak_perspective_to_translation)
from .scene import (PERSON_COLORS, draw_meshes, draw_people, draw_pose_2d, draw_side_view,
                    people_in_camera, person_colors)

__all__ = [
    'MeshVisualizer', 'load_faces', 'MeshRender', 'Rasterization', 'rasterize', 'render_mesh',
    'overlay_render', 'project_points', 'rotate_about_y', 'vertex_normals',
    'weak_perspective_to_translation', 'PERSON_COLORS', 'draw_meshes', 'draw_people',
    'draw_pose_2d', 'draw_side_view', 'people_in_camera', 'person_colors'
]
