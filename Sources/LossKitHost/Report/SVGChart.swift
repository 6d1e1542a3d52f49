import Foundation

/// Line charts and scatter plots written as SVG text: static, no scripts, readable in any
/// browser offline.
public struct SVGChart {
    public struct Series {
        public let name: String
        public let points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func format(_ v: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.2g", v) }
        return String(format: a < 10 ? "%.3g" : "%.0f", v)
    }

    /// One `<path>` per series (series with one point get a marker too), axes with 5 ticks, a
    /// legend. `logY` plots log10 of positive values.
    public static func lines(title: String, xLabel: String, series: [Series], logY: Bool = false, width: Int = 560, height: Int = 300) -> String {
        let (left, right, top, bottom) = (60.0, 150.0, 28.0, 40.0)
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let transformed = series.map { s in (s.name, s.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }.map { ($0.x, logY ? log10($0.y) : $0.y) }) }
        let xs = transformed.flatMap { $0.1.map(\.0) }, ys = transformed.flatMap { $0.1.map(\.1) }
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let px = { (x: Double) in left + (x - x0) / (x1 - x0) * plotW }
        let py = { (y: Double) in top + (1 - (y - y0) / (y1 - y0)) * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>\n"
        svg += "<g stroke=\"#ccc\">"
        for i in 0...4 {
            let fy = top + Double(i) / 4 * plotH, fx = left + Double(i) / 4 * plotW
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(fy)\" y2=\"\(fy)\"/><line x1=\"\(fx)\" x2=\"\(fx)\" y1=\"\(top)\" y2=\"\(top + plotH)\"/>"
        }
        svg += "</g>\n<g fill=\"#333\">"
        for i in 0...4 {
            let yv = y1 - Double(i) / 4 * (y1 - y0), xv = x0 + Double(i) / 4 * (x1 - x0)
            svg += "<text x=\"\(left - 4)\" y=\"\(top + Double(i) / 4 * plotH + 4)\" text-anchor=\"end\">\(logY ? format(pow(10, yv)) : format(yv))</text>"
            svg += "<text x=\"\(left + Double(i) / 4 * plotW)\" y=\"\(top + plotH + 14)\" text-anchor=\"middle\">\(format(xv))</text>"
        }
        svg += "<text x=\"\(left + plotW / 2)\" y=\"\(Double(height) - 6)\" text-anchor=\"middle\">\(escape(xLabel))</text></g>\n"
        for (i, (name, points)) in transformed.enumerated() where !points.isEmpty {
            let color = palette[i % palette.count]
            let d = points.enumerated().map { j, p in "\(j == 0 ? "M" : "L")\(String(format: "%.1f", px(p.0))),\(String(format: "%.1f", py(p.1)))" }.joined(separator: " ")
            svg += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(escape(name))</title></path>\n"
            if points.count == 1 { svg += "<circle cx=\"\(px(points[0].0))\" cy=\"\(py(points[0].1))\" r=\"3\" fill=\"\(color)\"/>\n" }
            let ly = top + 14 * Double(i) + 6
            svg += "<rect x=\"\(left + plotW + 10)\" y=\"\(ly - 8)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(left + plotW + 24)\" y=\"\(ly + 1)\">\(escape(name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A scatter plot of 2-D points coloured by class.
    public static func scatter(title: String, points: [(x: Float, y: Float, label: Int)], classNames: [String], size: Int = 420) -> String {
        let margin = 20.0, legend = 130.0
        let xs = points.map { Double($0.x) }, ys = points.map { Double($0.y) }
        let (x0, x1) = (xs.min() ?? 0, max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9)), (y0, y1) = (ys.min() ?? 0, max(ys.max() ?? 1, (ys.min() ?? 0) + 1e-9))
        let plot = Double(size) - 2 * margin
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Double(size) + legend)\" height=\"\(size + 20)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"\(margin)\" y=\"14\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>\n"
        for p in points {
            let cx = margin + (Double(p.x) - x0) / (x1 - x0) * plot, cy = 20 + margin + (1 - (Double(p.y) - y0) / (y1 - y0)) * plot
            svg += "<circle cx=\"\(String(format: "%.1f", cx))\" cy=\"\(String(format: "%.1f", cy))\" r=\"1.6\" fill=\"\(palette[p.label % palette.count])\" fill-opacity=\"0.7\"/>"
        }
        svg += "\n"
        for (i, name) in classNames.enumerated() {
            let ly = 30 + 14 * Double(i)
            svg += "<rect x=\"\(Double(size) + 4)\" y=\"\(ly - 8)\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/><text x=\"\(Double(size) + 18)\" y=\"\(ly + 1)\">\(escape(name))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
