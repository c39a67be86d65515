"""The analysis policy as a Prefect Block: named policies ("strict", "batch-jobs") in the UI."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field

from blocks.policy import AnalysisPolicy


class AnalysisPolicyBlock(Block):
    """A named analysis policy, editable in the Prefect UI."""

    _block_type_name = "Floodgate Analysis Policy"
    _block_type_slug = "floodgate-analysis-policy"
    _description = "Thresholds and counted limits for Floodgate's canary analysis."

    policy: AnalysisPolicy = Field(default_factory=AnalysisPolicy)
