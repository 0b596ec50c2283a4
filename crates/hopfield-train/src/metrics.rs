//! Figures that several tasks report.

/// The area under the ROC curve of `scores` for the positives in `labels`: the probability that a
/// random positive scores above a random negative, ties counting one half (Mann–Whitney, with the
/// average rank of tied scores). NaN when one class is absent.
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    let rank_sum: f64 = ranks.iter().zip(labels).filter(|(_, &l)| l).map(|(r, _)| r).sum();
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision (the area under the precision–recall curve as scikit-learn's
/// `average_precision_score` computes it): Σ over the distinct score thresholds, highest first, of
/// (recall gained) × (precision there). NaN without positives.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        // Every example tied at this score crosses the threshold together.
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            tp += labels[order[j]] as usize;
            seen += 1;
            j += 1;
        }
        let recall = tp as f64 / pos as f64;
        ap += (recall - last_recall) * tp as f64 / seen as f64;
        last_recall = recall;
        i = j;
    }
    ap
}

/// The mean over the two classes of their F1 scores when `score ≥ threshold` is called positive
/// (a class absent from both labels and predictions scores 0).
pub fn macro_f1(scores: &[f64], labels: &[bool], threshold: f64) -> f64 {
    let (mut tp, mut fp, mut fneg, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &l) in scores.iter().zip(labels) {
        match (s >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => tn += 1,
        }
    }
    let f1 = |tp: usize, fp: usize, fneg: usize| {
        if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fneg) as f64
        }
    };
    0.5 * (f1(tp, fp, fneg) + f1(tn, fneg, fp))
}

/// The threshold among the distinct scores that maximises [`macro_f1`] on (`scores`, `labels`),
/// with its macro-F1 (the lowest such threshold on ties; +∞ — all negative — for no scores).
pub fn best_f1_threshold(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let mut cands: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    cands.sort_by(f64::total_cmp);
    cands.dedup();
    let mut best = (f64::INFINITY, macro_f1(scores, labels, f64::INFINITY));
    for t in cands {
        let f = macro_f1(scores, labels, t);
        if f > best.1 {
            best = (t, f);
        }
    }
    best
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}
