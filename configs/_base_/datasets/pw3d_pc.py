# 3DPW-PC (SPEC §4.5): the person-person-contact frame ranges of 3DPW, written by the 3DPW
# converter as annotations/pw3d_pc.npz (see pw3d_test.py).
_base_ = ['./pw3d_test.py']

val_dataloader = dict(dataset=dict(ann_file='annotations/pw3d_pc.npz'))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='3dpw-pc')
test_evaluator = val_evaluator
