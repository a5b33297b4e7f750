# 3DPW-OCC (SPEC §4.5): the occlusion sequences of 3DPW (ROMP's list, over all official
# splits), written by the 3DPW converter as annotations/pw3d_occ.npz (see pw3d_test.py).
_base_ = ['./pw3d_test.py']

val_dataloader = dict(dataset=dict(ann_file='annotations/pw3d_occ.npz'))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='3dpw-occ')
test_evaluator = val_evaluator
