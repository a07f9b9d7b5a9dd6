"""Analyse your own models (2/2): a RobustBench-architecture pair (robustbench's WideResNet), saved as RobustBench's
checkpoints are and converted with robint-convert, through 02-06. Fixtures and the pair check: own_models.py."""
from own_models import kernel_sees_this_robint, checkout, pairs, check_pair

def test_a_robustbench_pair_through_the_analysis_notebooks(checkout, pairs, tmp_path):
    check_pair(checkout, pairs, tmp_path, 'robustbench', ['wrn_standard (robustbench:wide_resnet.WideResNet)', 'wrn_robust (robustbench:wide_resnet.WideResNet)'])
