"""The pure core: intake, resolution, classification, planning, money, rendering (no I/O)."""
