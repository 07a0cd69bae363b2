import Foundation

// Async decoupling: a signup that sends its SMS and email synchronously waits for both
// providers (and fails when one is down), while one that enqueues them answers at once and the
// notifications go out when the provider is back. The providers are stand-ins with a fixed,
// real delay; the response times are measured with the wall clock.

public struct SignupResult: Codable, Sendable {
    public var signups: Int
    public var failed: Int
    public var responseP50: Double
    public var responseP99: Double
    /// Notifications sent during the run; the rest wait in the queue.
    public var notificationsSent: Int
    public var notificationsQueued: Int
}

public struct AsyncSignupResult: Codable, Sendable {
    public var synchronous: SignupResult
    public var queued: SignupResult
    public var synchronousWithSMSDown: SignupResult
    public var queuedWithSMSDown: SignupResult
}

public enum AsyncSignup {
    public static func run(signups: Int = 40, smsMs: Double = 15, emailMs: Double = 10) -> AsyncSignupResult {
        AsyncSignupResult(
            synchronous: synchronous(signups: signups, smsMs: smsMs, emailMs: emailMs, smsDown: false),
            queued: queued(signups: signups, smsMs: smsMs, emailMs: emailMs, smsDown: false),
            synchronousWithSMSDown: synchronous(
                signups: signups, smsMs: smsMs, emailMs: emailMs, smsDown: true),
            queuedWithSMSDown: queued(signups: signups, smsMs: smsMs, emailMs: emailMs, smsDown: true))
    }

    private static func saveUser() { PeakShaving.busyWork(milliseconds: 0.2) }

    private static func call(milliseconds: Double, down: Bool) -> Bool {
        // A provider that is down answers only after a timeout, then with an error.
        Thread.sleep(forTimeInterval: (down ? 3 * milliseconds : milliseconds) / 1000)
        return !down
    }

    private static func synchronous(signups: Int, smsMs: Double, emailMs: Double, smsDown: Bool)
        -> SignupResult
    {
        var times: [Double] = []
        var failed = 0
        var sent = 0
        for _ in 0..<signups {
            let start = Date()
            saveUser()
            let sms = call(milliseconds: smsMs, down: smsDown)
            let email = call(milliseconds: emailMs, down: false)
            sent += (sms ? 1 : 0) + (email ? 1 : 0)
            if !sms { failed += 1 }  // the handler reports the failure to the user
            times.append(Date().timeIntervalSince(start) * 1000)
        }
        return summarize(times, signups: signups, failed: failed, sent: sent, queued: 0)
    }

    private static func queued(signups: Int, smsMs: Double, emailMs: Double, smsDown: Bool) -> SignupResult {
        let queue = WorkQueue<String>()
        var times: [Double] = []
        for _ in 0..<signups {
            let start = Date()
            saveUser()
            queue.put("sms")
            queue.put("email")
            times.append(Date().timeIntervalSince(start) * 1000)
        }
        // A worker drains what it can; SMS stays queued while its provider is down.
        var sent = 0
        var waiting = 0
        for _ in 0..<(2 * signups) {
            let item = queue.take(upTo: 1)[0]
            if item == "sms" && smsDown { waiting += 1 } else { sent += 1 }
        }
        return summarize(times, signups: signups, failed: 0, sent: sent, queued: waiting)
    }

    private static func summarize(_ times: [Double], signups: Int, failed: Int, sent: Int, queued: Int)
        -> SignupResult
    {
        let sorted = times.sorted()
        return SignupResult(
            signups: signups, failed: failed, responseP50: sorted[sorted.count / 2],
            responseP99: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))],
            notificationsSent: sent,
            notificationsQueued: queued)
    }
}
