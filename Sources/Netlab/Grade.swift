// Grade: libnetlab's class grading (nl_rubric.h, nl_classgrade.h) for Swift. A
// Rubric is built from a file and options; ClassGrades grades a class folder and
// copies every verdict, reason and difference into Swift values. Every decision
// is the C library's; this file only converts.
import CNetlab

/// What netlab grade checks, from a rubric file and options (options replace the file's settings).
public final class Rubric {
    let h: OpaquePointer

    public init() throws {
        var r: OpaquePointer?
        try nlCheck { nl_rubric_new(&r, $0) }
        h = r!
    }

    deinit { nl_rubric_free(h) }

    /// Read a rubric file (KEY = VALUE lines; docs/grade.md).
    public func load(_ path: String) throws { try nlCheck { nl_rubric_load(h, path, $0) } }

    /// One setting, as a command-line option gives it.
    public func set(_ key: String, _ value: String) throws { try nlCheck { nl_rubric_set(h, key, value, $0) } }

    /// Check the settings together and read the input file.
    public func finish() throws { try nlCheck { nl_rubric_finish(h, $0) } }

    public var title: String {
        var i = nl_rubric_info()
        nl_rubric_info(h, &i)
        return cString(i.title)
    }

    /// The checks, in the order of a gradebook's columns, with their points.
    public var checks: [(id: String, points: Double)] {
        (0..<nl_rubric_check_count(h)).map { i in
            var milli: UInt32 = 0
            let id = cString(nl_rubric_check(h, i, &milli))
            return (id, Double(milli) / 1000)
        }
    }
}

public struct CheckGrade {
    public let id: String
    public let pass: Bool
    public let points, maxPoints: Double
    public let reason: String
    public let details: [String]
}

public struct GradedCapture {
    public let part: String
    public let file: String?
    public let format: String?
    public let packets: UInt64
    public let error: String?
    public let conversation: Int
    public let answers: CaptureAnswers?
    public let hasReference: Bool
    /// (item, text): what differs from the reference, by rubric item.
    public let differences: [(item: String, text: String)]
}

public struct SubmissionGrade {
    public let name: String
    public let kind: String
    public let pass: Bool
    public let points, maxPoints: Double
    public let files: Int
    public let checks: [CheckGrade]
    public let captures: [GradedCapture]
    public var verdict: String { pass ? "PASS" : "FAIL" }
}

/// The C grades, owned apart from the Swift values so that answers borrowed from them keep them alive.
final class ClassHandle {
    let h: OpaquePointer
    let rubric: Rubric  // the grades read it
    init(_ h: OpaquePointer, rubric: Rubric) {
        self.h = h
        self.rubric = rubric
    }
    deinit { nl_class_free(h) }
}

/// A class graded: one SubmissionGrade per folder or zip, in order of name.
public struct ClassGrades {
    public let submissions: [SubmissionGrade]
    /// Entries of the class folder that are not submissions ("NAME: why").
    public let skipped: [String]

    /// Grade every submission of dir; throws only when grading cannot run (the folder, a reference).
    public init(dir: String, rubric: Rubric) throws {
        var c: OpaquePointer?
        try nlCheck { nl_class_grade(dir, rubric.h, &c, $0) }
        let owner = ClassHandle(c!, rubric: rubric)
        skipped = (0..<nl_class_skipped_count(owner.h)).map { cString(nl_class_skipped(owner.h, $0)) }
        submissions = (0..<nl_class_count(owner.h)).map { Self.read(owner, $0) }
    }

    private static func read(_ owner: ClassHandle, _ i: Int) -> SubmissionGrade {
        let h = owner.h, rubric = owner.rubric
        var s = nl_submission_result()
        _ = nl_class_submission(h, i, &s)
        let checks = (0..<nl_rubric_check_count(rubric.h)).map { k -> CheckGrade in
            var c = nl_check_result()
            _ = nl_class_check(h, i, k, &c)
            return CheckGrade(id: cString(c.id), pass: c.pass != 0, points: Double(c.milli) / 1000,
                              maxPoints: Double(c.max_milli) / 1000, reason: cString(c.reason),
                              details: (0..<c.details).map { cString(nl_class_check_detail(h, i, k, $0)) })
        }
        let caps = (0..<nl_class_capture_count(h, i)).map { j -> GradedCapture in
            var g = nl_graded_capture()
            _ = nl_class_capture(h, i, j, &g)
            let file = g.file.map { String(cString: $0) }
            let answers = g.answers.map { CaptureAnswers(borrowing: $0, file: file ?? "", owner: owner) }
            let diffs = (0..<g.differences).map { k -> (item: String, text: String) in
                var d = nl_difference()
                _ = nl_class_difference(h, i, j, k, &d)
                return (cString(d.item), cString(d.text))
            }
            return GradedCapture(part: cString(g.part), file: file, format: g.format.map { String(cString: $0) },
                                 packets: g.packets, error: g.error.map { String(cString: $0) },
                                 conversation: Int(g.conversation), answers: answers,
                                 hasReference: g.has_reference != 0, differences: diffs)
        }
        return SubmissionGrade(name: cString(s.name), kind: cString(s.kind), pass: s.pass != 0,
                               points: Double(s.milli) / 1000, maxPoints: Double(s.max_milli) / 1000,
                               files: s.files, checks: checks, captures: caps)
    }
}
