"""A simulated region: a seeded plan of one academic year and an executor over the public APIs."""

from mentornet_simulator.plan import PRESETS, Figures, Preset, RegionConfig, RegionPlan, make_plan

__all__ = ["PRESETS", "Figures", "Preset", "RegionConfig", "RegionPlan", "make_plan"]
