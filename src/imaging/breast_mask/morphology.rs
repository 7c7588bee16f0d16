//! Binary morphology on a row-major grid of cells: disc erosion/dilation, connected components, hole filling.

/// A row-major grid of booleans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Grid {
    pub width: usize,
    pub height: usize,
    pub cells: Vec<bool>,
}

/// Which disc filter to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// A cell is set when any cell under the disc is.
    Dilate,
    /// A cell is set when every cell under the disc is.
    Erode,
}

/// Neighbourhood of a flood fill.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Connectivity {
    Four,
    Eight,
}

/// Offsets of a disc of `radius` cells.
fn disc(radius: usize) -> Vec<(isize, isize)> {
    let r = radius as isize;
    (-r..=r).flat_map(|dy| (-r..=r).map(move |dx| (dx, dy))).filter(|&(dx, dy)| dx * dx + dy * dy <= r * r).collect()
}

impl Grid {
    fn at(&self, x: isize, y: isize) -> Option<bool> {
        (x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height)
            .then(|| self.cells[y as usize * self.width + x as usize])
    }

    /// Dilation or erosion by a disc; outside the grid counts as `outside`.
    fn disc_filter(&self, radius: usize, filter: Filter, outside: bool) -> Self {
        let offsets = disc(radius);
        let mut cells = vec![false; self.cells.len()];
        for y in 0..self.height {
            for x in 0..self.width {
                let hit = |&(dx, dy): &(isize, isize)| self.at(x as isize + dx, y as isize + dy).unwrap_or(outside);
                cells[y * self.width + x] = match filter {
                    Filter::Dilate => offsets.iter().any(hit),
                    Filter::Erode => offsets.iter().all(hit),
                };
            }
        }
        Self { width: self.width, height: self.height, cells }
    }

    /// Dilation by a disc (outside the grid is empty).
    pub fn dilate(&self, radius: usize) -> Self {
        self.disc_filter(radius, Filter::Dilate, false)
    }

    /// Erosion by a disc; `outside_set` makes cells beyond the border count as set, so a region touching the
    /// border is not eaten from there.
    pub fn erode(&self, radius: usize, outside_set: bool) -> Self {
        self.disc_filter(radius, Filter::Erode, outside_set)
    }

    /// Cells where both grids are set.
    pub fn and(&self, other: &Self) -> Self {
        Self { width: self.width, height: self.height, cells: self.cells.iter().zip(&other.cells).map(|(&a, &b)| a && b).collect() }
    }

    /// Flood fill from `seeds` over cells equal to `value`; returns the reached cells.
    fn flood(&self, seeds: impl IntoIterator<Item = usize>, value: bool, connectivity: Connectivity) -> Vec<bool> {
        let (w, h) = (self.width, self.height);
        let mut reached = vec![false; self.cells.len()];
        let mut stack: Vec<usize> = Vec::new();
        for s in seeds {
            if self.cells[s] == value && !reached[s] {
                reached[s] = true;
                stack.push(s);
            }
        }
        let neighbours: &[(isize, isize)] = if connectivity == Connectivity::Eight {
            &[(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]
        } else {
            &[(0, -1), (-1, 0), (1, 0), (0, 1)]
        };
        while let Some(i) = stack.pop() {
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            for &(dx, dy) in neighbours {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= h {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if !reached[j] && self.cells[j] == value {
                    reached[j] = true;
                    stack.push(j);
                }
            }
        }
        reached
    }

    /// The largest 8-connected set component (ties: the first in row-major order); empty if none is set.
    pub fn largest_component(&self) -> Self {
        let mut seen = vec![false; self.cells.len()];
        let mut best: Vec<bool> = vec![false; self.cells.len()];
        let mut best_size = 0;
        for i in 0..self.cells.len() {
            if self.cells[i] && !seen[i] {
                let component = self.flood([i], true, Connectivity::Eight);
                let size = component.iter().filter(|&&c| c).count();
                for (s, &c) in seen.iter_mut().zip(&component) {
                    *s |= c;
                }
                if size > best_size {
                    (best, best_size) = (component, size);
                }
            }
        }
        Self { width: self.width, height: self.height, cells: best }
    }

    /// Sets every unset cell not 4-connected to the grid border through unset cells.
    pub fn fill_holes(&self) -> Self {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return self.clone();
        }
        let border = (0..w).flat_map(|x| [x, (h - 1) * w + x]).chain((0..h).flat_map(|y| [y * w, y * w + w - 1]));
        let outside = self.flood(border, false, Connectivity::Four);
        Self { width: w, height: h, cells: outside.iter().map(|&o| !o).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&str]) -> Grid {
        let cells = rows.iter().flat_map(|r| r.chars().map(|c| c == '#')).collect();
        Grid { width: rows[0].len(), height: rows.len(), cells }
    }

    #[test]
    fn components_holes_and_discs() {
        let g = grid(&["##....", "##..##", "....#.", "...##."]);
        assert_eq!(g.largest_component(), grid(&["......", "....##", "....#.", "...##."]));
        assert_eq!(grid(&["###", "#.#", "###"]).fill_holes(), grid(&["###", "###", "###"]));
        assert_eq!(grid(&["...", ".#.", "..."]).dilate(1), grid(&[".#.", "###", ".#."]));
        assert_eq!(grid(&["###", "###", "###"]).erode(1, true), grid(&["###", "###", "###"]));
        assert_eq!(grid(&["###", "###", "###"]).erode(1, false), grid(&["...", ".#.", "..."]));
        assert_eq!(grid(&["##.", "##.", "##."]).erode(1, true), grid(&["#..", "#..", "#.."]));
    }
}
