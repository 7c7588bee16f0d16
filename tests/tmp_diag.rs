#![allow(clippy::unwrap_used)]
use mammoscope::imaging::tiling::distinct_findings;
use mammoscope::models::checkpoint::build_from_file;
use mammoscope::models::device::best_device;
use mammoscope::models::training::evaluate::{TestSet, tile_scores};
use mammoscope::synth::calc_patches::{MIN_CNR, generate_eval_range};

#[test]
#[ignore]
fn diag() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let idx: Vec<usize> = std::env::var("IDX").unwrap().split(',').map(|s| s.parse().unwrap()).collect();
    let w = std::env::var("W").unwrap();
    let thr: f32 = std::env::var("THR").unwrap().parse().unwrap();
    let device = best_device().unwrap();
    let (net, _) = build_from_file(std::path::Path::new(&w), &device).unwrap();
    for &i in &idx {
        let imgs = generate_eval_range(seed, i..i + 1, &|_, _| {}, &|| false).unwrap();
        let set = TestSet::new(imgs, seed);
        let sc = tile_scores(&net, &set, 112, 1, &device, &|| false).unwrap();
        let s = &sc.images[0];
        let marks = distinct_findings(&s.tiles, &s.probs, &s.evidence, thr, 5.0 / 0.07);
        let img = &set.images[0].image;
        println!("== image {i}: {}x{} marks {}", img.image.width, img.image.height, marks.len());
        for c in img.clusters.iter().filter(|c| c.max_cnr >= MIN_CNR) {
            println!(" cluster ({:.0},{:.0}) r {:.0} max {:.2}", c.center_px[0], c.center_px[1], c.radius_px, c.max_cnr);
            for s2 in img
                .specks
                .iter()
                .filter(|s| s.1 >= MIN_CNR && (s.0[0] - c.center_px[0]).hypot(s.0[1] - c.center_px[1]) <= c.radius_px + 1.0)
            {
                let breast = set.images[0].mask.contains(s2.0[0] as usize, s2.0[1] as usize);
                let ri = img.specks.iter().position(|q| q.0 == s2.0).unwrap();
                println!("  speck ({:.0},{:.0}) cnr {:.2} r {:.2} in-breast {breast}", s2.0[0], s2.0[1], s2.1, img.speck_radii_px[ri]);
                // 96 x 96 crop around the speck, windowed to its 1st..99.9th percentile, as PGM.
                let (cx, cy) = (s2.0[0] as i64, s2.0[1] as i64);
                let mut vals = Vec::new();
                for y in cy - 48..cy + 48 {
                    for x in cx - 48..cx + 48 {
                        let v = if x >= 0 && y >= 0 && (x as usize) < img.image.width && (y as usize) < img.image.height {
                            img.image.data[y as usize * img.image.width + x as usize]
                        } else {
                            0.0
                        };
                        vals.push(v);
                    }
                }
                let mut sorted = vals.clone();
                sorted.sort_by(f32::total_cmp);
                let (lo, hi) = (sorted[96], sorted[96 * 96 - 10]);
                let bytes: Vec<u8> = vals.iter().map(|v| (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0) as u8).collect();
                let mut out = format!("P5 96 96 255\n").into_bytes();
                out.extend(bytes);
                std::fs::write(format!("/tmp/diag/{i}_{cx}_{cy}.pgm"), out).unwrap();
                for (k, t) in s.tiles.iter().enumerate() {
                    if t.contains_with_margin(s2.0[0], s2.0[1], 0.0) {
                        println!(
                            "    tile ({},{}) p {:.3} ev ({:.0},{:.0}) mark {}",
                            t.x,
                            t.y,
                            s.probs[k],
                            s.evidence[k][0],
                            s.evidence[k][1],
                            marks.contains(&k)
                        );
                    }
                }
            }
        }
        for &k in &marks {
            let t = s.tiles[k];
            println!(" MARK ({},{}) p {:.3} ev ({:.0},{:.0})", t.x, t.y, s.probs[k], s.evidence[k][0], s.evidence[k][1]);
        }
    }
}

#[test]
#[ignore]
fn radii() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let mut out = String::new();
    for start in (0..n).step_by(8) {
        let imgs = generate_eval_range(seed, start..(start + 8).min(n), &|_, _| {}, &|| false).unwrap();
        for (j, img) in imgs.iter().enumerate() {
            for c in img.clusters.iter().filter(|c| c.max_cnr >= MIN_CNR) {
                let members: Vec<usize> = (0..img.specks.len())
                    .filter(|&k| (img.specks[k].0[0] - c.center_px[0]).hypot(img.specks[k].0[1] - c.center_px[1]) <= c.radius_px + 1.0)
                    .collect();
                let best = members.iter().copied().max_by(|&a, &b| img.specks[a].1.total_cmp(&img.specks[b].1)).unwrap();
                let vis_r: Vec<String> =
                    members.iter().filter(|&&k| img.specks[k].1 >= MIN_CNR).map(|&k| format!("{:.2}", img.speck_radii_px[k])).collect();
                out += &format!(
                    "{} {:.3} {:.3} {:.3} {:.3} {}\n",
                    start + j,
                    c.center_px[0],
                    c.max_cnr,
                    img.speck_radii_px[best],
                    img.source_spacing_mm,
                    vis_r.join(",")
                );
            }
        }
    }
    std::fs::write(std::env::var("OUT").unwrap(), out).unwrap();
}
