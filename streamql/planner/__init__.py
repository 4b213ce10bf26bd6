"""The planner: plan-to-plan rewrites read from declared properties and schemas."""
