use candle_core::{DType, Device, Var};

use super::super::super::pool::fd::{relative_gradient_error, spread};
use super::*;

/// Gradients of `Σ r ⊙ conv(x, w)` with respect to x and w, by `conv` or by candle's own `conv2d`.
fn grads(x: &Tensor, w: &Tensor, padding: usize, stride: usize, ours: bool) -> Result<(Vec<f64>, Vec<f64>)> {
    let (xv, wv) = (Var::from_tensor(x)?, Var::from_tensor(w)?);
    let y = if ours { conv2d(xv.as_tensor(), wv.as_tensor(), padding, stride)? } else { xv.conv2d(wv.as_tensor(), padding, stride, 1, 1)? };
    let r = spread(y.dims(), 3)?;
    let g = y.mul(&r)?.sum_all()?.backward()?;
    let flat = |t: &Tensor| g.get(t).expect("gradient").flatten_all()?.to_vec1::<f64>();
    Ok((flat(xv.as_tensor())?, flat(wv.as_tensor())?))
}

#[test]
fn gradients_match_candle_and_finite_differences() {
    // (c_in, c_out, kernel, stride, padding, h, w)
    for (c_in, c_out, k, s, p, h, w) in [
        (3, 4, 3, 1, 1, 7, 6),
        (2, 3, 3, 2, 1, 8, 7),
        (1, 4, 5, 2, 2, 9, 9),
        (4, 2, 1, 2, 0, 5, 6),
        (1, 3, 7, 2, 3, 11, 10),
        (2, 2, 1, 1, 0, 3, 4),
    ] {
        let x = spread(&[2, c_in, h, w], 1).unwrap();
        let weight = spread(&[c_out, c_in, k, k], 2).unwrap();
        let forward = conv2d(&x, &weight, p, s).unwrap().sub(&x.conv2d(&weight, p, s, 1, 1).unwrap()).unwrap();
        assert!(forward.abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap() < 1e-12, "forward k{k} s{s} p{p}");
        let ours = grads(&x, &weight, p, s, true).unwrap();
        // candle's own backward fails when height and width leave different remainders (see `input_grad`).
        if let Ok(theirs) = grads(&x, &weight, p, s, false) {
            for (a, b) in ours.0.iter().zip(&theirs.0).chain(ours.1.iter().zip(&theirs.1)) {
                assert!((a - b).abs() < 1e-9, "k{k} s{s} p{p}: {a} vs {b}");
            }
        }
        let r = spread(x.conv2d(&weight, p, s, 1, 1).unwrap().dims(), 3).unwrap();
        let err = relative_gradient_error(|w| conv2d(&x, w, p, s)?.mul(&r)?.sum_all(), &weight, None, 1e-6).unwrap();
        assert!(err < 1e-6, "weight gradient, k{k} s{s} p{p}: {err}");
        let err = relative_gradient_error(|x| conv2d(x, &weight, p, s)?.mul(&r)?.sum_all(), &x, None, 1e-6).unwrap();
        assert!(err < 1e-6, "input gradient, k{k} s{s} p{p}: {err}");
    }
}

#[test]
fn bias_gradient_matches_candle() {
    let y = Var::from_tensor(&spread(&[2, 3, 4, 5], 1).unwrap()).unwrap();
    let bias = Var::from_tensor(&spread(&[3], 2).unwrap()).unwrap();
    let r = spread(&[2, 3, 4, 5], 3).unwrap();
    let ours = add_channel_bias(y.as_tensor(), bias.as_tensor()).unwrap();
    let theirs = y.as_tensor().broadcast_add(&bias.as_tensor().reshape((1, 3, 1, 1)).unwrap()).unwrap();
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(flat(&ours), flat(&theirs));
    let g_ours = ours.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
    let g_theirs = theirs.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
    for t in [y.as_tensor(), bias.as_tensor()] {
        let (a, b) = (flat(g_ours.get(t).unwrap()), flat(g_theirs.get(t).unwrap()));
        assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12));
    }
}

#[test]
fn untracked_inputs_get_no_gradient_and_forward_matches() {
    let x = spread(&[1, 2, 6, 6], 4).unwrap();
    let weight = Var::from_tensor(&spread(&[3, 2, 3, 3], 5).unwrap()).unwrap();
    let y = conv2d(&x, weight.as_tensor(), 1, 1).unwrap();
    assert_eq!(
        y.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        x.conv2d(weight.as_tensor(), 1, 1, 1, 1).unwrap().to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
    );
    let g = y.sum_all().unwrap().backward().unwrap();
    assert!(g.get(&x).is_none());
    assert!(g.get(weight.as_tensor()).is_some());
    assert!(Device::Cpu.is_cpu());
}
