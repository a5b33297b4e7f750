# The frozen PCT-Base pose tokenizer (stage-2 model) that feeds PostoMETRO its 34 pose tokens:
# pose feature = softmax(logits) @ codebook, pose score = max raw logit (SPEC §1). The
# architecture is PCT's (configs/pct/_base_/pct_swinv2-base_model.py); only the use differs:
# frozen, no stochastic depth, weights from one stage-2 checkpoint.
_base_ = ['../../pct/_base_/pct_swinv2-base_model.py']

# User-provided: a stage-2 checkpoint of configs/pct/pct_classifier_swinv2-base_coco-256x256.py, or
# PCT's released PCT-Base weights converted by tools/model_converters/pct_to_plugin.py.
pct_checkpoint = 'weights/pct/pct-base_classifier.pth'
pct_guide_ratio = 0.5

pose_tokenizer = dict(
    type='PCTPoseEstimator',
    frozen=True,
    backbone=dict(_base_.pct_base_backbone, drop_path_rate=0.0),
    head=dict(
        _base_.pct_base_head,
        stage='classifier',
        tokenizer=dict(_base_.pct_base_tokenizer, guide_ratio=pct_guide_ratio),
        classifier=_base_.pct_base_classifier),
    init_cfg=dict(type='Pretrained', checkpoint=pct_checkpoint))
