package io.batchgen.engine.backend.cuda;

/**
 * Launch planning of the grouped GEMM ({@code grouped_gemm_bf16}): the rows of each group cut
 * into tiles of at most {@link #TILE_ROWS} rows, one thread block per (tile, {@link #TILE_COLS}
 * columns). Plain data, computed on the host and uploaded as {@code int4} per tile: {@code
 * (group, first row, rows, 0)}.
 */
final class GemmTiles {
  /** Rows of one tile (BM in gemm.cu). */
  static final int TILE_ROWS = 64;
  /** Output columns of one thread block (BN in gemm.cu). */
  static final int TILE_COLS = 64;
  /** The largest grid.y the driver accepts. */
  static final int MAX_GRID_Y = 65535;

  private GemmTiles() {
  }

  /** Tiles for groups of {@code groupRows[g]} consecutive rows (empty groups get none). */
  static int[] of(int[] groupRows) {
    int[] ids = new int[groupRows.length];
    for (int g = 0; g < ids.length; g++) {
      ids[g] = g;
    }
    return of(ids, groupRows);
  }

  /**
   * Tiles for groups of {@code groupRows[g]} consecutive rows that multiply by weight set
   * {@code groupIds[g]} (an expert id: the index into the launch's weight pointer arrays).
   */
  static int[] of(int[] groupIds, int[] groupRows) {
    int tiles = 0;
    for (int r : groupRows) {
      if (r < 0) {
        throw new IllegalArgumentException("A group cannot have " + r + " rows");
      }
      tiles += (r + TILE_ROWS - 1) / TILE_ROWS;
    }
    if (tiles > MAX_GRID_Y) {
      throw new IllegalArgumentException("A GEMM of " + tiles + " row tiles exceeds the grid's "
          + MAX_GRID_Y + "; lower the module batch size");
    }
    int[] out = new int[4 * tiles];
    int t = 0;
    int first = 0;
    for (int g = 0; g < groupRows.length; g++) {
      for (int r = 0; r < groupRows[g]; r += TILE_ROWS) {
        out[4 * t] = groupIds[g];
        out[4 * t + 1] = first + r;
        out[4 * t + 2] = Math.min(TILE_ROWS, groupRows[g] - r);
        t++;
      }
      first += groupRows[g];
    }
    return out;
  }

  /** Tiles of one group of {@code rows} rows. */
  static int[] single(int rows) {
    return of(new int[] {rows});
  }

  /** Thread blocks across {@code n} output columns (grid.x). */
  static int columnBlocks(int n) {
    return (n + TILE_COLS - 1) / TILE_COLS;
  }

  /** Blocks for a grid-stride elementwise kernel over {@code n} values. */
  static int elementwiseBlocks(long n) {
    return (int) Math.max(1, Math.min(65535, (n + Kernel.THREADS - 1) / Kernel.THREADS));
  }
}
