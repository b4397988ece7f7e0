"""Realtime: one tail per process following ``events.seq``, fanned out in memory."""
