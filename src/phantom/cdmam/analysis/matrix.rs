//! A value per cell of the 16 × 16 CDMAM matrix, `None` where the phantom has no cell or nothing was measured.

use crate::phantom::cdmam::geometry::Cell;

/// One value per matrix position, indexed `[row][col]` like the tables (row = diameter, column = thickness).
/// Serialises as 16 arrays of 16 values with `null` where there is no value.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct CellMatrix<T: Copy>(pub [[Option<T>; 16]; 16]);

impl<T: Copy> Default for CellMatrix<T> {
    fn default() -> Self {
        Self([[None; 16]; 16])
    }
}

impl<T: Copy> CellMatrix<T> {
    /// The value at `cell`, if any (also `None` for positions outside the matrix).
    pub fn get(&self, cell: Cell) -> Option<T> {
        self.0.get(cell.row)?.get(cell.col).copied().flatten()
    }

    /// Sets the value at `cell`; positions outside the 16 × 16 matrix are ignored.
    pub fn set(&mut self, cell: Cell, value: Option<T>) {
        if let Some(slot) = self.0.get_mut(cell.row).and_then(|r| r.get_mut(cell.col)) {
            *slot = value;
        }
    }

    /// The phantom's cells that hold a value, with the value, row by row.
    pub fn values(&self) -> impl Iterator<Item = (Cell, T)> + '_ {
        Cell::all().filter_map(|cell| Some((cell, self.get(cell)?)))
    }

    /// The number of cells holding a value.
    pub fn count(&self) -> usize {
        self.values().count()
    }

    /// A matrix computed cell by cell from this one.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> CellMatrix<U> {
        let mut out = CellMatrix::default();
        for (cell, v) in self.values() {
            out.set(cell, Some(f(v)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_nested_arrays_with_nulls() {
        let mut m = CellMatrix::<f64>::default();
        m.set(Cell { row: 0, col: 1 }, Some(0.5));
        m.set(Cell { row: 20, col: 1 }, Some(1.0)); // ignored
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 16);
        assert_eq!(json[0][1], 0.5);
        assert!(json[0][0].is_null());
        assert_eq!(m.count(), 1);
        assert_eq!(m.map(|v| v > 0.1).get(Cell { row: 0, col: 1 }), Some(true));
    }
}
