"""The pipeline's functional core: one plain function per stage, frames in, frames out.

Assets in `funcdex_assets.defs` only wire these to resources, partitions and IO.
"""
